/*
 * test_device_traces.c - every device trace vector replayed on the C core (cmocka).
 *
 * One cmocka test per file of protocol/vectors/device_traces (SPEC §10): the setup
 * builds a teddy_device_t (device_trace.c), the start and each step's input (canonical
 * JSON, teddy_canon_read_input) go in at their now_ms, and the effects the core emits,
 * free-text prints dropped, must equal the step's expected effects exactly and in
 * order (both sides written by teddy_canon_effect, so every field counts).
 * tests/emulator/test_device_traces.py replays the same files on the Python core; on
 * a mismatch both print the file, the step, the input and the two effect lists with
 * the first difference marked.
 */
#define _POSIX_C_SOURCE 200809L /* opendir, strdup */

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device_trace.h"
#include "teddy_canon.h"
#include "teddy_wire.h"

#define MAX_EFFECTS 512
#define MAX_TRACES 64

typedef struct {
    char *items[MAX_EFFECTS]; /* compact canonical JSON */
    size_t n;
    bool overflow;
} fx_list_t;

typedef struct {
    const char *file;
    trace_t trace;
    teddy_device_t *dev;
    fx_list_t actual, expected;
    char *input_text; /* the step's input, printed on a mismatch */
    uint64_t now_ms;  /* of the previous step (SPEC §8.1: uptime never goes back) */
    size_t nonces_used;
    bool nonces_short;
} run_t;

static run_t *s_run; /* the running trace: random_bytes has no context pointer */

static void list_clear(fx_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        cJSON_free(l->items[i]);
    }
    memset(l, 0, sizeof(*l));
}

static void list_add(fx_list_t *l, cJSON *canonical)
{
    if (canonical == NULL || l->n == MAX_EFFECTS) {
        l->overflow = true;
    } else {
        l->items[l->n++] = cJSON_PrintUnformatted(canonical);
    }
    cJSON_Delete(canonical);
}

/* SPEC §10: free text (a print that is not an SPEC §8 event line) is not compared. */
static bool free_text(const teddy_effect_t *fx)
{
    return fx->kind == TEDDY_FX_PRINT &&
           strncmp(fx->u.print.line, TEDDY_EVENT_PREFIX, strlen(TEDDY_EVENT_PREFIX)) != 0;
}

static void sink(const teddy_effect_t *fx, void *ctx)
{
    run_t *run = ctx;
    if (!free_text(fx)) {
        list_add(&run->actual, teddy_canon_effect(fx));
    }
}

static void trace_nonce(void *buf, size_t len)
{
    run_t *run = s_run;
    memset(buf, 0, len);
    if (run->nonces_used == run->trace.n_nonces || len != TRACE_NONCE_BYTES) {
        run->nonces_short = true;
        return;
    }
    memcpy(buf, run->trace.nonces[run->nonces_used++], len);
}

/* --- one step ------------------------------------------------------------------------- */

static void read_expected(run_t *run, const cJSON *list, const char *where)
{
    list_clear(&run->expected);
    if (!cJSON_IsArray(list)) {
        trace_fail(&run->trace, where, "'effects' must be a list");
    }
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        teddy_effect_t fx;
        teddy_canon_store_t store = {0};
        char why[200] = "";
        esp_err_t err = teddy_canon_read_effect(item, &fx, &store, why, sizeof(why));
        bool text = err == ESP_OK && free_text(&fx);
        if (err == ESP_OK && !text) {
            list_add(&run->expected, teddy_canon_effect(&fx));
        }
        teddy_canon_store_free(&store);
        if (err != ESP_OK) {
            trace_fail(&run->trace, where, "effects[%d]: %s", i, why);
        }
        if (text || run->expected.overflow) {
            trace_fail(&run->trace, where, "effects[%d]: %s", i,
                       text ? "free text is not compared (SPEC §10); drop it"
                            : "too many expected effects");
        }
        i++;
    }
}

static void print_list(const char *title, const fx_list_t *l, size_t mark)
{
    print_error("%s (%zu):\n", title, l->n);
    for (size_t i = 0; i < l->n; i++) {
        print_error("%s %3zu %s\n", i == mark ? ">>" : "  ", i, l->items[i]);
    }
    if (mark >= l->n) {
        print_error(">> %3zu (nothing)\n", mark);
    }
}

/* SPEC §10 comparison: exact list, in order. */
static void compare(run_t *run, const char *where, uint64_t now_ms, const char *input)
{
    const fx_list_t *want = &run->expected, *got = &run->actual;
    size_t mark = 0;
    while (mark < want->n && mark < got->n && strcmp(want->items[mark], got->items[mark]) == 0) {
        mark++;
    }
    if (run->nonces_short) {
        trace_fail(&run->trace, where, "the core asked for more claim nonces than setup.nonces has");
    }
    if (!got->overflow && mark == want->n && mark == got->n) {
        return;
    }
    print_error("device trace %s, %s (now_ms %llu): the C core disagrees at effect %zu\n",
                run->trace.file, where, (unsigned long long)now_ms, mark);
    print_error("input: %s\n", input);
    print_list("expected effects", want, mark);
    print_list("actual effects (free-text prints dropped)", got, mark);
    fail_msg("%s: %s: effects differ from effect %zu on%s", run->trace.file, where, mark,
             got->overflow ? " (too many effects recorded)" : "");
}

static void run_step(run_t *run, const cJSON *step, int index)
{
    static const char *const keys[] = {"note", "now_ms", "input", "effects", NULL};
    char where[32];
    snprintf(where, sizeof(where), "steps[%d]", index);
    trace_keys(&run->trace, step, keys, where);
    uint64_t now = (uint64_t)trace_uint(&run->trace, step, "now_ms", where);
    if (now < run->now_ms) {
        trace_fail(&run->trace, where, "now_ms %llu < %llu: uptime never goes back",
                   (unsigned long long)now, (unsigned long long)run->now_ms);
    }
    run->now_ms = now;
    const cJSON *input = trace_get(&run->trace, step, "input", where);
    teddy_input_t in;
    teddy_canon_store_t store = {0};
    char why[200] = "";
    if (teddy_canon_read_input(input, &in, &store, why, sizeof(why)) != ESP_OK) {
        teddy_canon_store_free(&store);
        trace_fail(&run->trace, where, "input: %s", why);
    }
    read_expected(run, trace_get(&run->trace, step, "effects", where), where);
    list_clear(&run->actual);
    teddy_device_handle(run->dev, &in, now);
    teddy_canon_store_free(&store);
    cJSON_free(run->input_text); /* kept in run: a failing compare does not return */
    run->input_text = cJSON_PrintUnformatted(input);
    compare(run, where, now, run->input_text != NULL ? run->input_text : "?");
}

static bool rebooted(const fx_list_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strstr(l->items[i], "{\"kind\":\"reboot\"") == l->items[i]) {
            return true;
        }
    }
    return false;
}

/* --- one trace -------------------------------------------------------------------------- */

static void test_trace(void **state)
{
    run_t *run = *state;
    trace_t *t = &run->trace;
    trace_open(t, trace_dir(), run->file); /* here, not in setup: teardown always runs */
    t->init.sink = sink;
    t->init.sink_ctx = run;
    t->init.random_bytes = trace_nonce;
    assert_int_equal(teddy_device_create(&t->init, &run->dev), ESP_OK);
    trace_load_nvs(t, run->dev);

    const cJSON *start = trace_get(t, t->root, "start", "file");
    static const char *const start_keys[] = {"note", "now_ms", "effects", NULL};
    trace_keys(t, start, start_keys, "start");
    uint64_t now = (uint64_t)trace_uint(t, start, "now_ms", "start");
    read_expected(run, trace_get(t, start, "effects", "start"), "start");
    run->now_ms = now;
    teddy_device_start(run->dev, now);
    compare(run, "start", now, "(power-on start)");

    const cJSON *steps = trace_get(t, t->root, "steps", "file");
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
        trace_fail(t, "steps", "expected a non-empty list of steps");
    }
    int i = 0;
    const cJSON *step;
    cJSON_ArrayForEach(step, steps)
    {
        if (rebooted(&run->expected)) {
            trace_fail(t, "steps", "step %d follows a reboot: a trace is one boot", i);
        }
        run_step(run, step, i++);
    }
}

static int setup_trace(void **state)
{
    run_t *run = calloc(1, sizeof(*run));
    assert_non_null(run);
    run->file = *state;
    *state = run;
    s_run = run;
    return 0;
}

static int teardown_trace(void **state)
{
    run_t *run = *state;
    teddy_device_destroy(run->dev);
    list_clear(&run->actual);
    list_clear(&run->expected);
    cJSON_free(run->input_text);
    trace_close(&run->trace);
    s_run = NULL;
    free(run);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* usage: test_device_traces [FILE.json]  (default: every file of trace_dir()) */
int main(int argc, char **argv)
{
    static char *names[MAX_TRACES];
    static struct CMUnitTest tests[MAX_TRACES];
    size_t n = 0;
    DIR *dir = opendir(trace_dir());
    if (dir == NULL) {
        fprintf(stderr, "cannot open the trace folder %s\n", trace_dir());
        return 1;
    }
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        bool wanted = argc < 2 || strcmp(argv[1], e->d_name) == 0;
        if (wanted && len > 5 && strcmp(e->d_name + len - 5, ".json") == 0) {
            if (n == MAX_TRACES) {
                fprintf(stderr, "more than %d trace files: raise MAX_TRACES\n", MAX_TRACES);
                closedir(dir);
                return 1;
            }
            names[n++] = strdup(e->d_name);
        }
    }
    closedir(dir);
    if (n == 0) {
        fprintf(stderr, "no trace file %s in %s\n", argc < 2 ? "*.json" : argv[1], trace_dir());
        return 1;
    }
    qsort(names, n, sizeof(names[0]), by_name);
    for (size_t i = 0; i < n; i++) {
        tests[i] = (struct CMUnitTest){names[i], test_trace, setup_trace, teardown_trace, names[i]};
    }
    int failed = _cmocka_run_group_tests("device_traces", tests, n, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        free(names[i]);
    }
    return failed;
}
