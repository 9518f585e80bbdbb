/*
 * seed_corpus.c - writes the libFuzzer seed corpora from protocol/vectors, so every
 * harness starts from the frames, manifests, images, event lines, console lines and
 * server error bodies the golden vectors already describe (valid and invalid ones).
 *
 * usage: teddy_fuzz_seed <vectors_dir> <out_dir>
 * out_dir/{server_msg,manifest,console,image,eventline,answer}/<n>, one input per file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "teddy_crypto.h"
#include "teddy_json.h"

static int written;

static void mkdir_p(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void put(const char *out, const char *harness, const void *data, size_t len)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", out, harness);
    mkdir_p(path);
    snprintf(path, sizeof(path), "%s/%s/seed-%04d", out, harness, written++);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static cJSON *load(const char *dir, const char *name)
{
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (!text || fread(text, 1, (size_t)n, f) != (size_t)n) {
        exit(1);
    }
    fclose(f);
    cJSON *root = NULL;
    if (teddy_json_parse(text, (size_t)n, &root) != ESP_OK) {
        fprintf(stderr, "%s: not strict JSON\n", path);
        exit(1);
    }
    free(text);
    return root;
}

/* Each case's string member `key` (or the JSON of an object member) into harness. */
static void cases(const char *dir, const char *file, const char *key, const char *out,
                  const char *harness)
{
    cJSON *root = load(dir, file);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases"))
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
        if (cJSON_IsString(v)) {
            put(out, harness, v->valuestring, strlen(v->valuestring));
        } else if (v && !cJSON_IsNull(v)) {
            char *json = cJSON_PrintUnformatted(v);
            put(out, harness, json, strlen(json));
            cJSON_free(json);
        }
    }
    cJSON_Delete(root);
}

/* Each case's hex member `key` (cases without it are skipped), decoded, into harness. */
static void hex_cases(const char *dir, const char *file, const char *key, const char *out,
                      const char *harness)
{
    cJSON *root = load(dir, file);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases"))
    {
        const cJSON *hex = cJSON_GetObjectItemCaseSensitive(c, key);
        if (!cJSON_IsString(hex)) {
            continue;
        }
        size_t n = 0, len = strlen(hex->valuestring) / 2;
        uint8_t *buf = malloc(len + 1);
        if (teddy_hex_decode(hex->valuestring, buf, len, &n) == ESP_OK) {
            put(out, harness, buf, n);
        }
        free(buf);
    }
    cJSON_Delete(root);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s <vectors_dir> <out_dir>\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1], *out = argv[2];
    mkdir_p(out);
    cases(dir, "messages_valid.json", "text", out, "server_msg");
    cases(dir, "messages_invalid.json", "text", out, "server_msg");
    cases(dir, "manifests.json", "manifest", out, "manifest");
    cases(dir, "claim_responses.json", "body", out, "manifest"); /* other strict bodies */
    cases(dir, "console.json", "line", out, "console");
    cases(dir, "eventlines.json", "line", out, "eventline");
    hex_cases(dir, "images.json", "image_hex", out, "image");
    hex_cases(dir, "server_answers.json", "body", out, "answer");
    printf("wrote %d seed inputs into %s\n", written, out);
    return 0;
}
