/*
 * test_semver.c - SemVer 2.0.0 parsing and precedence against semver.json (SPEC §5.4).
 */
#include <stdio.h>

#include "teddy_semver.h"
#include "vectors.h"

static void span(const teddy_semver_t *v, teddy_semver_span_t s, char *out)
{
    memcpy(out, v->text + s.off, s.len);
    out[s.len] = '\0';
}

/* "rc.1" vs ["rc", 1]: identifiers in order, numbers as numbers. */
static void check_idents(const char *id, const char *joined, const cJSON *want, bool numeric_ok)
{
    char buf[TEDDY_SEMVER_MAX_LEN + 1];
    snprintf(buf, sizeof(buf), "%s", joined);
    int i = 0;
    for (char *p = buf, *dot; *p; p = dot ? dot + 1 : p + strlen(p), i++) {
        dot = strchr(p, '.');
        if (dot) {
            *dot = '\0';
        }
        const cJSON *w = cJSON_GetArrayItem(want, i);
        TV_CHECK(id, w != NULL);
        bool digits = strspn(p, "0123456789") == strlen(p);
        if (numeric_ok && digits) {
            TV_CHECK(id, cJSON_IsNumber(w));
            char num[32];
            snprintf(num, sizeof(num), "%.0f", w->valuedouble);
            TV_STR_EQ(id, p, num);
        } else {
            TV_CHECK(id, cJSON_IsString(w));
            TV_STR_EQ(id, p, w->valuestring);
        }
        if (!dot) {
            i++;
            break;
        }
    }
    TV_INT_EQ(id, i, cJSON_GetArraySize(want));
}

static void test_semver_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("semver.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const char *kind = tv_str(c, "kind", id);
        if (strcmp(kind, "compare") == 0) {
            int got = 99, back = 99;
            TV_CHECK(id, teddy_semver_compare_str(tv_str(c, "a", id), tv_str(c, "b", id), &got) ==
                             ESP_OK);
            TV_INT_EQ(id, got, tv_int(c, "expect", id));
            TV_CHECK(id, teddy_semver_compare_str(tv_str(c, "b", id), tv_str(c, "a", id), &back) ==
                             ESP_OK);
            TV_INT_EQ(id, back, -got); /* antisymmetric */
        } else if (strcmp(kind, "parse") == 0) {
            teddy_semver_t v;
            char part[TEDDY_SEMVER_MAX_LEN + 1];
            const cJSON *e = tv_get(c, "expect", id);
            TV_CHECK(id, teddy_semver_parse(tv_str(c, "input", id), &v) == ESP_OK);
            TV_INT_EQ(id, v.major_num, tv_int(e, "major", id));
            TV_INT_EQ(id, v.minor_num, tv_int(e, "minor", id));
            TV_INT_EQ(id, v.patch_num, tv_int(e, "patch", id));
            span(&v, v.pre, part);
            check_idents(id, part, tv_get(e, "prerelease", id), true);
            TV_CHECK(id, teddy_semver_is_prerelease(&v) == (v.pre.len > 0));
            span(&v, v.build, part);
            check_idents(id, part, tv_get(e, "build", id), false);
        } else {
            TV_STR_EQ(id, kind, "invalid");
            TV_CHECK(id, !teddy_semver_valid(tv_str(c, "input", id)));
        }
        n++;
    }
    print_message("semver.json: %d cases\n", n);
    cJSON_Delete(root);
}

static void test_semver_edges(void **state)
{
    (void)state;
    int r;
    /* Numbers longer than 64 bits still compare exactly (Python ints are unbounded). */
    assert_int_equal(teddy_semver_compare_str("99999999999999999999999.0.0",
                                              "99999999999999999999998.0.0", &r), ESP_OK);
    assert_int_equal(r, 1);
    assert_int_equal(teddy_semver_compare_str("1.0.0-alpha.beta", "1.0.0-alpha.1", &r), ESP_OK);
    assert_int_equal(r, 1);
    assert_true(teddy_semver_valid("v1.2.3"));
    assert_false(teddy_semver_valid("V1.2.3"));
    assert_false(teddy_semver_valid("1.2.3-"));
    assert_false(teddy_semver_valid("1.2.3-a..b"));
    assert_false(teddy_semver_valid("1.2.3+"));
    assert_false(teddy_semver_valid("1.2.3-01"));
    assert_true(teddy_semver_valid("1.2.3-0a"));
    char longv[300];
    memset(longv, '1', sizeof(longv));
    longv[0] = '1';
    longv[1] = '.';
    longv[2] = '2';
    longv[3] = '.';
    longv[299] = '\0';
    assert_false(teddy_semver_valid(longv)); /* 299 chars > 256 */
    longv[256] = '\0';
    assert_true(teddy_semver_valid(longv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semver_vectors),
        cmocka_unit_test(test_semver_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
