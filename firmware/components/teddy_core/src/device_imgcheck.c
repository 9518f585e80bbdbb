/*
 * device_imgcheck.c - structural check of an app image as it streams (SPEC §5.3).
 *
 * The streaming verifier (teddy_image.h) checks size, SHA-256 and the header/app
 * descriptor identity while the image downloads; protocol.manifest.verify_image also
 * parses the whole image (segments, XOR checksum, appended SHA-256), which the
 * emulator does on the complete image in RAM. A board cannot hold 1.5 MB, so this
 * walks the same structure byte-stream-wise: header, segment headers and data (XOR
 * into the checksum), padding up to the checksum byte at the end of the 16-byte
 * block, then the 32-byte digest of everything before it. A stream that stops early
 * is `truncated`; a wrong checksum `bad_checksum`; a wrong digest `bad_hash`.
 */
#include <string.h>

#include "device_internal.h"

enum { ST_HEADER, ST_SEG_HDR, ST_SEG_DATA, ST_PAD, ST_DIGEST, ST_DONE };

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

esp_err_t dev_imgcheck_init(dev_imgcheck_t *c)
{
    memset(c, 0, sizeof(*c));
    c->stage = ST_HEADER;
    c->need = sizeof(c->hdr);
    c->checksum = 0xEF;
    return teddy_sha256_init(&c->sha);
}

void dev_imgcheck_free(dev_imgcheck_t *c) { teddy_sha256_free(&c->sha); }

static void fail(dev_imgcheck_t *c, teddy_image_err_t err)
{
    if (c->error == TEDDY_IMAGE_OK) {
        c->error = err;
    }
    c->stage = ST_DONE;
}

static void after_segments(dev_imgcheck_t *c)
{
    /* The checksum is the last byte of the 16-byte block after the segments. */
    size_t index = c->pos + 15 - c->pos % 16;
    c->stage = ST_PAD;
    c->need = index - c->pos + 1;
}

static void next_stage(dev_imgcheck_t *c)
{
    switch (c->stage) {
    case ST_HEADER:
        c->segments = c->hdr[1];
        c->hash_appended = c->hdr[23] == 1;
        if (c->hdr[0] != 0xE9 || c->segments < 1 || c->segments > 16 || c->hdr[23] > 1) {
            fail(c, TEDDY_IMAGE_BAD_MAGIC);
            return;
        }
        c->stage = ST_SEG_HDR;
        c->need = sizeof(c->seg_hdr);
        return;
    case ST_SEG_HDR:
        c->stage = ST_SEG_DATA;
        c->need = rd32(c->seg_hdr + 4);
        if (c->need == 0) {
            c->seg_index++;
            if (c->seg_index < c->segments) {
                c->stage = ST_SEG_HDR;
                c->need = sizeof(c->seg_hdr);
            } else {
                after_segments(c);
            }
        }
        return;
    case ST_SEG_DATA:
        c->seg_index++;
        if (c->seg_index < c->segments) {
            c->stage = ST_SEG_HDR;
            c->need = sizeof(c->seg_hdr);
        } else {
            after_segments(c);
        }
        return;
    case ST_PAD:
        if (c->hash_appended) {
            c->stage = ST_DIGEST;
            c->need = sizeof(c->stored_digest);
        } else {
            c->stage = ST_DONE;
        }
        return;
    case ST_DIGEST: {
        uint8_t digest[TEDDY_SHA256_LEN];
        if (teddy_sha256_finish(&c->sha, digest) != ESP_OK ||
            memcmp(digest, c->stored_digest, sizeof(digest)) != 0) {
            fail(c, TEDDY_IMAGE_BAD_HASH);
            return;
        }
        c->stage = ST_DONE;
        return;
    }
    default:
        return;
    }
}

void dev_imgcheck_feed(dev_imgcheck_t *c, const uint8_t *data, size_t len)
{
    while (len > 0 && c->stage != ST_DONE) {
        size_t take = len < c->need ? len : c->need;
        size_t filled;
        switch (c->stage) {
        case ST_HEADER:
            filled = sizeof(c->hdr) - c->need;
            memcpy(c->hdr + filled, data, take);
            break;
        case ST_SEG_HDR:
            filled = sizeof(c->seg_hdr) - c->need;
            memcpy(c->seg_hdr + filled, data, take);
            break;
        case ST_SEG_DATA:
            for (size_t i = 0; i < take; i++) {
                c->checksum ^= data[i];
            }
            break;
        case ST_PAD:
            if (take == c->need && data[take - 1] != c->checksum) {
                teddy_sha256_update(&c->sha, data, take);
                fail(c, TEDDY_IMAGE_BAD_CHECKSUM);
                return;
            }
            break;
        case ST_DIGEST:
            filled = sizeof(c->stored_digest) - c->need;
            memcpy(c->stored_digest + filled, data, take);
            break;
        default:
            break;
        }
        if (c->stage != ST_DIGEST) {
            teddy_sha256_update(&c->sha, data, take);
        }
        c->pos += take;
        c->need -= take;
        data += take;
        len -= take;
        if (c->need == 0) {
            next_stage(c);
        }
    }
}

teddy_image_err_t dev_imgcheck_finish(dev_imgcheck_t *c)
{
    if (c->error != TEDDY_IMAGE_OK) {
        return c->error;
    }
    return c->stage == ST_DONE ? TEDDY_IMAGE_OK : TEDDY_IMAGE_TRUNCATED;
}
