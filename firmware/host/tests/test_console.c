/*
 * test_console.c - console grammar against console.json (SPEC §9): parsed command
 * or refusal reason, and the canonical form of every accepted line.
 */
#include <stdlib.h>

#include "teddy_console.h"
#include "vectors.h"

static void test_console_vectors(void **state)
{
    (void)state;
    cJSON *root = tv_load("console.json");
    const cJSON *c;
    int ok = 0, refused = 0;
    teddy_cmd_t *cmd = malloc(sizeof(*cmd));
    teddy_cmd_t *again = malloc(sizeof(*again));
    cJSON_ArrayForEach(c, tv_cases(root))
    {
        const char *id = tv_id(c);
        const cJSON *expect = tv_get(c, "expect", id);
        teddy_cmd_err_t reason;
        char msg[256];
        esp_err_t err = teddy_console_parse(tv_str(c, "line", id), cmd, &reason, msg, sizeof(msg));
        const char *want_err = tv_opt_str(expect, "error");
        if (want_err) {
            TV_CHECK(id, err == ESP_ERR_INVALID_ARG);
            TV_STR_EQ(id, teddy_cmd_err_str(reason), want_err);
            TV_CHECK(id, msg[0] != '\0');
            refused++;
            continue;
        }
        TV_CHECK(id, err == ESP_OK);
        TV_STR_EQ(id, cmd->name, tv_str(expect, "name", id));
        TV_STR_EQ(id, teddy_cmd_name(cmd->id), cmd->name);
        const cJSON *args = tv_get(expect, "args", id);
        TV_INT_EQ(id, cmd->argc, cJSON_GetArraySize(args));
        for (size_t i = 0; i < cmd->argc; i++) {
            TV_STR_EQ(id, cmd->args[i], cJSON_GetArrayItem(args, (int)i)->valuestring);
        }
        const char *phrase = tv_opt_str(expect, "phrase");
        TV_CHECK(id, cmd->has_phrase == (phrase != NULL));
        if (phrase) {
            TV_STR_EQ(id, cmd->phrase, phrase);
        }
        char line[2048];
        TV_CHECK(id, teddy_console_format(cmd, line, sizeof(line)) == ESP_OK);
        TV_STR_EQ(id, line, tv_str(c, "canonical", id));
        /* parse(format(c)) == c */
        TV_CHECK(id, teddy_console_parse(line, again, NULL, NULL, 0) == ESP_OK);
        TV_CHECK(id, again->id == cmd->id && again->argc == cmd->argc &&
                         again->has_phrase == cmd->has_phrase);
        ok++;
    }
    print_message("console.json: %d accepted + %d refused cases\n", ok, refused);
    free(cmd);
    free(again);
    cJSON_Delete(root);
}

static void test_console_edges(void **state)
{
    (void)state;
    teddy_cmd_t *cmd = malloc(sizeof(*cmd));
    teddy_cmd_err_t reason;
    char msg[256];
    assert_int_equal(teddy_console_parse("dance", cmd, &reason, msg, sizeof(msg)),
                     ESP_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, teddy_console_valid_list()));
    assert_int_equal(teddy_console_parse("set volume -0", cmd, &reason, NULL, 0), ESP_OK);
    assert_int_equal(teddy_console_parse("set volume 0100", cmd, &reason, NULL, 0), ESP_OK);
    assert_int_equal(teddy_console_parse("set volume 99999999999999999999", cmd, &reason, NULL, 0),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(reason, TEDDY_CMD_ERR_BAD_VALUE);
    assert_int_equal(teddy_console_parse("set child_name a\\", cmd, &reason, NULL, 0),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(reason, TEDDY_CMD_ERR_BAD_QUOTING);
    assert_int_equal(teddy_console_parse("set child_name 'a b'\"c\"", cmd, &reason, NULL, 0), ESP_OK);
    assert_string_equal(cmd->args[1], "a bc");
    char line[256];
    assert_int_equal(teddy_console_format(cmd, line, sizeof(line)), ESP_OK);
    assert_string_equal(line, "set child_name \"a bc\"");
    assert_int_equal(teddy_console_parse("wifi\xc2\xa0up", cmd, &reason, NULL, 0), ESP_OK);
    assert_string_equal(cmd->args[0], "up"); /* NBSP is whitespace to str.split() */
    char *longl = malloc(3000);
    memset(longl, 'a', 2999);
    memcpy(longl, "text ", 5);
    longl[2999] = '\0';
    assert_int_equal(teddy_console_parse(longl, cmd, &reason, NULL, 0), ESP_ERR_INVALID_ARG);
    free(longl);
    free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_vectors),
        cmocka_unit_test(test_console_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
