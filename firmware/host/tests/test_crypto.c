/*
 * test_crypto.c - OOB derivation (oob.json), claim HMAC (claim_hmac.json), hex,
 * nonces and the streaming SHA-256 (SPEC §2.1, §2.2, §5.4).
 */
#include <stdlib.h>

#include "teddy_crypto.h"
#include "vectors.h"

static void test_oob_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("oob.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        char oob[TEDDY_OOB_HEX_LEN + 1];
        const char *salt = tv_opt_str(c, "salt"); /* null = the default salt */
        TV_CHECK(id, teddy_oob_derive(tv_str(c, "device_id", id), salt, oob) == ESP_OK);
        TV_STR_EQ(id, oob, tv_str(c, "oob_secret", id));
        n++;
    }
    print_message("oob.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void test_claim_hmac_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("claim_hmac.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        char mac[TEDDY_HMAC_HEX_LEN + 1];
        esp_err_t err = teddy_claim_hmac_hex(tv_str(c, "oob_secret", id), tv_str(c, "device_id", id),
                                             tv_str(c, "child_id", id), tv_str(c, "nonce", id), mac);
        TV_CHECK(id, err == ESP_OK);
        TV_STR_EQ(id, mac, tv_str(c, "hmac_hex", id));
        n++;
    }
    print_message("claim_hmac.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void test_hmac_rejects_bad_inputs(void **state)
{
    (void)state;
    char mac[65];
    char oob[65];
    assert_int_equal(teddy_oob_derive("Teddy-ESP32-001", NULL, oob), ESP_OK);
    assert_string_equal(oob, "16DD1E4997F1B95C1A66FE1484865CDE699E7CCA7ED161B4E821736C281ADAB4");
    assert_int_equal(teddy_claim_hmac_hex("ABCD", "dev", "child", "00", mac), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_claim_hmac_hex(oob, "dev", "child", "0g", mac), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_claim_hmac_hex(oob, "dev", "child", "abc", mac), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_claim_hmac_hex(NULL, "dev", "child", "00", mac), ESP_ERR_INVALID_ARG);
}

static void test_sha256_streaming_matches_one_shot(void **state)
{
    (void)state;
    uint8_t data[1000], one[32], streamed[32];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 7);
    }
    assert_int_equal(teddy_sha256(data, sizeof(data), one), ESP_OK);
    teddy_sha256_t s;
    assert_int_equal(teddy_sha256_init(&s), ESP_OK);
    for (size_t i = 0; i < sizeof(data); i += 333) {
        size_t n = sizeof(data) - i < 333 ? sizeof(data) - i : 333;
        assert_int_equal(teddy_sha256_update(&s, data + i, n), ESP_OK);
    }
    assert_int_equal(teddy_sha256_update(&s, NULL, 0), ESP_OK);
    assert_int_equal(teddy_sha256_finish(&s, streamed), ESP_OK);
    teddy_sha256_free(&s);
    teddy_sha256_free(&s); /* idempotent */
    assert_memory_equal(one, streamed, 32);
    char hex[65];
    assert_int_equal(teddy_sha256("", 0, one), ESP_OK);
    teddy_hex_encode(one, 32, hex, false);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hex_and_nonce(void **state)
{
    (void)state;
    uint8_t buf[4];
    size_t n;
    assert_int_equal(teddy_hex_decode("00fFa1", buf, sizeof(buf), &n), ESP_OK);
    assert_int_equal(n, 3);
    assert_int_equal(buf[1], 0xff);
    assert_int_equal(teddy_hex_decode("0", buf, sizeof(buf), &n), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_hex_decode("zz", buf, sizeof(buf), &n), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_hex_decode("0011223344", buf, sizeof(buf), &n), ESP_ERR_INVALID_SIZE);
    uint8_t rnd[32];
    char nonce[65];
    memset(rnd, 0xAB, sizeof(rnd));
    assert_int_equal(teddy_nonce_hex(rnd, 16, nonce, sizeof(nonce)), ESP_OK);
    assert_string_equal(nonce, "abababababababababababababababab");
    assert_int_equal(teddy_nonce_hex(rnd, 15, nonce, sizeof(nonce)), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_nonce_hex(rnd, 33, nonce, sizeof(nonce)), ESP_ERR_INVALID_ARG);
    assert_int_equal(teddy_nonce_hex(rnd, 32, nonce, 64), ESP_ERR_INVALID_SIZE);
    assert_true(teddy_ct_equal("abc", "abc", 3));
    assert_false(teddy_ct_equal("abc", "abd", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oob_vectors),
        cmocka_unit_test(test_claim_hmac_vectors),
        cmocka_unit_test(test_hmac_rejects_bad_inputs),
        cmocka_unit_test(test_sha256_streaming_matches_one_shot),
        cmocka_unit_test(test_hex_and_nonce),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
