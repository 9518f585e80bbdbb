/*
 * device_chat.c - utterances up, replies down (emulator/core/chat.py; SPEC §6.5, §7).
 *
 * Uplink: a capture becomes audio_start, chunk_bytes-sized audio_chunk frames as the
 * source delivers them, the remainder with is_final:true, then audio_end; at most
 * 30 s (SPEC §6.5 rule 4). Sent PCM is appended to tx-<id>.wav as it goes, so a long
 * utterance never sits in RAM. Downlink: text_response -> text.rx; audio_response
 * frames checked in seq order and played; a gap prints error{audio_seq_gap} and stops
 * that reply; a seq 0 with a new id cuts the previous reply short. Also the chat
 * sub-state of SPEC §8.3 (listening > speaking > thinking > idle).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"

/* SPEC §6.5 rule 4: at most 30 s of 16 kHz s16le (protocol/constants.py). */
#define MAX_UTTERANCE_BYTES ((size_t)TEDDY_MAX_UTTERANCE_BYTES)

teddy_state_t dev_chat_substate(const tdev_t *d)
{
    const dev_chat_t *c = &d->chat;
    if (c->capture.active && c->capture.started) {
        return TEDDY_STATE_LISTENING;
    }
    bool playing = false;
    for (int i = 0; i < DEV_PLAYING_MAX; i++) {
        playing = playing || c->playing[i][0] != '\0';
    }
    if (c->reply_active || playing) {
        return TEDDY_STATE_SPEAKING;
    }
    return c->pending > 0 ? TEDDY_STATE_THINKING : TEDDY_STATE_IDLE;
}

bool dev_chat_idle(const tdev_t *d)
{
    return !d->chat.capture.active && dev_chat_substate(d) == TEDDY_STATE_IDLE;
}

static void stop_effect(tdev_t *d, uint32_t id)
{
    teddy_effect_t fx = {.kind = TEDDY_FX_STOP_CAPTURE};
    fx.u.capture.id = id;
    dev_fx(d, &fx);
}

static void cmd_error(tdev_t *d, const char *cmd, const char *reason, const char *message)
{
    EMIT_CMD_ERROR(d, .cmd = cmd, .reason = reason, .message = message);
}

static void clear_capture(tdev_t *d)
{
    free(d->chat.capture.buffer);
    memset(&d->chat.capture, 0, sizeof(d->chat.capture));
}

void dev_chat_free(tdev_t *d) { clear_capture(d); }

void dev_chat_start_capture(tdev_t *d, teddy_cmd_id_t command, teddy_capture_kind_t kind,
                            const char *value)
{
    clear_capture(d);
    dev_capture_t *c = &d->chat.capture;
    c->active = true;
    c->id = dev_new_id(d);
    c->command = command;
    teddy_effect_t fx = {.kind = TEDDY_FX_START_CAPTURE};
    fx.u.capture.id = c->id;
    fx.u.capture.kind = kind;
    fx.u.capture.value = value != NULL ? value : "";
    dev_fx(d, &fx);
}

void dev_chat_stop_capture(tdev_t *d)
{
    if (d->chat.capture.active) {
        stop_effect(d, d->chat.capture.id);
    }
}

static void send_start(tdev_t *d)
{
    char buf[160];
    size_t n = 0;
    if (teddy_msg_build_audio_start(d->chat.capture.session, buf, sizeof(buf), &n) == ESP_OK) {
        dev_link_send(d, buf, n);
    }
}

static void send_end(tdev_t *d)
{
    char buf[160];
    size_t n = 0;
    if (teddy_msg_build_audio_end(d->chat.capture.session, buf, sizeof(buf), &n) == ESP_OK) {
        dev_link_send(d, buf, n);
    }
}

static void send_chunk(tdev_t *d, const uint8_t *pcm, size_t len, bool final)
{
    dev_capture_t *c = &d->chat.capture;
    char chunk_id[16];
    snprintf(chunk_id, sizeof(chunk_id), "%u", (unsigned)c->chunks);
    size_t size = teddy_msg_audio_chunk_size(len);
    char *buf = malloc(size);
    size_t n = 0;
    if (buf != NULL && teddy_msg_build_audio_chunk(pcm, len & ~(size_t)1, chunk_id, c->session,
                                                   final, buf, size, &n) == ESP_OK) {
        dev_link_send(d, buf, n);
    }
    free(buf);
    c->chunks++;
    if (c->start_late) { /* the quirk audio_before_start (SPEC Appendix C) */
        c->start_late = false;
        send_start(d);
    }
}

static void on_started(tdev_t *d, uint32_t id)
{
    dev_capture_t *c = &d->chat.capture;
    if (!c->active || c->id != id) {
        stop_effect(d, id);
        return;
    }
    if (!d->link.is_open) {
        teddy_cmd_id_t cmd = c->command;
        clear_capture(d);
        stop_effect(d, id);
        cmd_error(d, TEDDY_CMDS[cmd].name, "bad_argument", "not connected");
        return;
    }
    EMIT_CMD_OK(d, .cmd = c->command);
    d->chat.utterances++;
    snprintf(c->session, sizeof(c->session), "u-%u-%04u", (unsigned)d->boot_count,
             (unsigned)d->chat.utterances);
    c->started = true;
    if (dev_quirk(d, TEDDY_QUIRK_AUDIO_BEFORE_START)) {
        c->start_late = true; /* SPEC Appendix C: sent after the first chunk */
    } else {
        send_start(d);
    }
    EMIT_AUDIO_TX_START(d, .audio_session_id = c->session);
    dev_settle(d);
}

static void save_tx(tdev_t *d, const uint8_t *pcm, size_t len)
{
    char name[96];
    snprintf(name, sizeof(name), "tx-%s.wav", d->chat.capture.session);
    teddy_effect_t fx = {.kind = TEDDY_FX_SAVE_AUDIO};
    fx.u.audio.name = name;
    fx.u.audio.pcm = pcm;
    fx.u.audio.len = len;
    dev_fx(d, &fx);
}

static void on_ended(tdev_t *d, uint32_t id)
{
    dev_capture_t *c = &d->chat.capture;
    if (!c->active || c->id != id || !c->started) {
        return;
    }
    /* SPEC §7.2: the partial chunk (or an empty one) with is_final, then audio_end
     * (the quirk audio_end_before_final swaps the two, SPEC Appendix C). */
    bool end_first = dev_quirk(d, TEDDY_QUIRK_AUDIO_END_BEFORE_FINAL);
    if (end_first) {
        send_end(d);
    }
    send_chunk(d, c->buffer, c->buffer_len, true);
    if (!end_first) {
        send_end(d);
    }
    save_tx(d, NULL, 0); /* an empty utterance still leaves its WAV */
    EMIT_AUDIO_TX_END(d, .audio_session_id = c->session, .bytes = (int64_t)c->pcm_total,
                      .chunks = c->chunks);
    clear_capture(d);
    d->chat.pending++;
    dev_settle(d);
}

static void on_chunk(tdev_t *d, uint32_t id, const uint8_t *pcm, size_t len)
{
    dev_capture_t *c = &d->chat.capture;
    if (!c->active || c->id != id || !c->started) {
        return;
    }
    size_t room = MAX_UTTERANCE_BYTES - c->pcm_total;
    len = len < room ? len : room; /* SPEC §6.5 rule 4: a device stops sending at 30 s */
    uint8_t *grown = realloc(c->buffer, c->buffer_len + len + 1);
    if (grown == NULL) {
        return;
    }
    c->buffer = grown;
    memcpy(c->buffer + c->buffer_len, pcm, len);
    c->buffer_len += len;
    c->pcm_total += len;
    if (len > 0) {
        save_tx(d, pcm, len);
    }
    int64_t stored = 0;
    size_t size = TEDDY_UPLINK_CHUNK_BYTES;
    if (dev_nvs_int(d, TEDDY_NVS_AUTH_CHUNK_BYTES, &stored) && stored > 0) {
        size = (size_t)stored;
    }
    size_t sent = 0;
    while (c->buffer_len - sent >= size && c->pcm_total < MAX_UTTERANCE_BYTES) {
        send_chunk(d, c->buffer + sent, size, false);
        sent += size;
    }
    memmove(c->buffer, c->buffer + sent, c->buffer_len - sent);
    c->buffer_len -= sent;
    if (c->pcm_total >= MAX_UTTERANCE_BYTES) {
        stop_effect(d, id);
        on_ended(d, id);
    }
}

void dev_chat_on_capture(tdev_t *d, const teddy_input_t *in)
{
    switch (in->kind) {
    case TEDDY_IN_CAPTURE_STARTED:
        on_started(d, in->id);
        break;
    case TEDDY_IN_CAPTURE_FAILED:
        if (d->chat.capture.active && d->chat.capture.id == in->id) {
            teddy_cmd_id_t cmd = d->chat.capture.command;
            clear_capture(d);
            /* A driver's reason is one of SPEC §9.3's; anything else reads as bad_value. */
            const char *reason = in->text != NULL ? in->text : "";
            if (!teddy_vocab_has(TEDDY_VOCAB_COMMAND_ERROR_REASONS, reason)) {
                reason = TEDDY_CMD_ERR_NAMES[TEDDY_CMD_ERR_BAD_VALUE];
            }
            cmd_error(d, TEDDY_CMDS[cmd].name, reason, in->message != NULL ? in->message : "");
            dev_settle(d);
        }
        break;
    case TEDDY_IN_CAPTURE_CHUNK:
        on_chunk(d, in->id, in->data, in->len);
        break;
    case TEDDY_IN_CAPTURE_ENDED:
        on_ended(d, in->id);
        break;
    default:
        break;
    }
}

/* The quirk oversize_frame: a `padding` member takes the frame one byte past the SPEC
 * §6.6 transport limit (as emulator/core/chat.py's oversize); NULL: no memory. */
static char *oversize(const char *frame, size_t len, size_t *out_len)
{
    static const char head[] = ",\"padding\":\"";
    size_t total = TEDDY_WS_TRANSPORT_MAX_BYTES + 1;
    size_t fixed = len - 1 + (sizeof(head) - 1) + 2;
    size_t room = total > fixed ? total - fixed : 0;
    char *out = malloc(fixed + room + 1);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, frame, len - 1); /* without the closing brace */
    size_t pos = len - 1;
    memcpy(out + pos, head, sizeof(head) - 1);
    pos += sizeof(head) - 1;
    memset(out + pos, 'x', room);
    pos += room;
    memcpy(out + pos, "\"}", 3);
    *out_len = pos + 2;
    return out;
}

bool dev_chat_send_text(tdev_t *d, const char *text)
{
    char *buf = malloc(strlen(text) * 6 + 64);
    size_t n = 0;
    bool built = buf != NULL &&
                 teddy_msg_build_text_message(text, buf, strlen(text) * 6 + 64, &n) == ESP_OK;
    if (built && dev_quirk(d, TEDDY_QUIRK_OVERSIZE_FRAME)) {
        char *big = oversize(buf, n, &n);
        free(buf);
        buf = big;
        built = big != NULL;
    }
    bool sent = built && dev_link_send(d, buf, n);
    free(buf);
    if (sent) {
        d->chat.pending++;
        dev_settle(d);
    }
    return sent;
}
