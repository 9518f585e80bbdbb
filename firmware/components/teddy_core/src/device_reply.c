/*
 * device_reply.c - the downlink half of the chat (emulator/core/chat.py on_message).
 *
 * text_response -> text.rx{text,transcript}; audio_response frames reassembled in
 * seq order (SPEC §7.3) and played as they come; the reply's end prints
 * audio.rx.end{bytes,frames,text}. A gap prints error{audio_seq_gap} and cuts that
 * reply; a new seq 0 cuts the previous reply short; error frames print error{code}
 * and answer a pending utterance when they are one of the SPEC §6.3 reply errors.
 * Each frame becomes a PLAY of what the DAC plays (play_frame: the playback quirks of
 * SPEC Appendix C, emulator/core/playback.py); the events always count the frame as sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device_internal.h"
#include "teddy_console.h"

static const char *const REPLY_ERRORS[] = {
    "no_audio_data", "audio_too_short",  "audio_too_long",    "invalid_audio_data",
    "empty_text",    "processing_error", "utterance_timeout", "busy"};

static void add_playing(tdev_t *d, const char *session)
{
    dev_chat_t *c = &d->chat;
    for (int i = 0; i < DEV_PLAYING_MAX; i++) {
        if (strcmp(c->playing[i], session) == 0) {
            return;
        }
    }
    for (int i = 0; i < DEV_PLAYING_MAX; i++) {
        if (c->playing[i][0] == '\0') {
            snprintf(c->playing[i], DEV_SESSION_MAX, "%s", session);
            return;
        }
    }
    snprintf(c->playing[0], DEV_SESSION_MAX, "%s", session); /* never more than a few */
}

static void play_end(tdev_t *d, const char *session, bool cut)
{
    teddy_effect_t fx = {.kind = TEDDY_FX_PLAY_END};
    fx.u.audio.session = session;
    fx.u.audio.cut = cut;
    dev_fx(d, &fx);
    add_playing(d, session);
}

static void pending_done(tdev_t *d)
{
    if (d->chat.pending > 0) {
        d->chat.pending--;
    }
}

static void end_reply(tdev_t *d, bool cut)
{
    dev_chat_t *c = &d->chat;
    char session[DEV_SESSION_MAX];
    snprintf(session, sizeof(session), "%s", c->reply.audio_session_id);
    EMIT_AUDIO_RX_END(d, .audio_session_id = session, .bytes = (int64_t)c->reply.pcm_bytes,
                      .frames = (int64_t)c->reply.frame_count, .text = c->reply_text);
    c->reply_active = false;
    play_end(d, session, cut);
    pending_done(d);
}

static void seq_gap(tdev_t *d, const char *session, const char *message)
{
    snprintf(d->chat.dead_reply, sizeof(d->chat.dead_reply), "%s", session);
    EMIT_ERROR(d, .code = TEDDY_ERROR_AUDIO_SEQ_GAP, .message = message);
}

/* An integer quirk's value when it is on (the parsers checked its range), else 0. */
static long long quirk_number(const tdev_t *d, teddy_quirk_t q)
{
    long long n = 0;
    return teddy_quirk_int(q, dev_quirk_value(d, q), &n) ? n : 0;
}

/* PLAY of frame `seq`: playback_rate sets the DAC rate; drop_frames (seq % N == N-1)
 * plays nothing, mute_playback silence, playback_gain the samples times GAIN saturated
 * at full scale. `received` carries the frame as sent whenever pcm differs from it, so
 * rx-<id>.wav stays what the server sent (SPEC Appendix C). */
static void play_frame(tdev_t *d, const char *session, int64_t seq, const uint8_t *pcm,
                       size_t len)
{
    teddy_effect_t fx = {.kind = TEDDY_FX_PLAY};
    fx.u.audio.session = session;
    fx.u.audio.pcm = pcm;
    fx.u.audio.len = len;
    long long rate = quirk_number(d, TEDDY_QUIRK_PLAYBACK_RATE);
    fx.u.audio.sample_rate = rate > 0 ? (uint32_t)rate : TEDDY_SAMPLE_RATE; /* SPEC §7.1 */
    long long every = quirk_number(d, TEDDY_QUIRK_DROP_FRAMES);
    long long gain = quirk_number(d, TEDDY_QUIRK_PLAYBACK_GAIN);
    bool mute = dev_quirk(d, TEDDY_QUIRK_MUTE_PLAYBACK);
    uint8_t *played = NULL;
    if (every > 0 && seq % every == every - 1) {
        fx.u.audio.len = 0;
    } else if ((mute || gain > 1) && len > 0 && (played = malloc(len)) != NULL) {
        memcpy(played, pcm, len);
        for (size_t i = 0; i + 1 < len; i += 2) {
            long long s = (int16_t)(uint16_t)(pcm[i] | pcm[i + 1] << 8);
            s = mute ? 0 : s * gain;
            s = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
            played[i] = (uint8_t)((uint16_t)s & 0xff);
            played[i + 1] = (uint8_t)((uint16_t)s >> 8);
        }
        if (mute && (len & 1u)) {
            played[len - 1] = 0; /* silence of the frame's length, every byte */
        }
        fx.u.audio.pcm = played;
    }
    if (fx.u.audio.len != len || (len > 0 && memcmp(fx.u.audio.pcm, pcm, len) != 0)) {
        fx.u.audio.received = pcm;
        fx.u.audio.received_len = len;
    }
    dev_fx(d, &fx);
    free(played);
}

static void on_audio(tdev_t *d, const teddy_server_msg_t *m)
{
    dev_chat_t *c = &d->chat;
    const char *session = m->audio_session_id != NULL ? m->audio_session_id : "";
    if (m->seq == 0) {
        if (c->reply_active) {
            end_reply(d, true); /* SPEC §7.3: a new seq 0 cuts the old reply */
        }
        teddy_audio_rx_reset(&c->reply);
        c->reply_active = true;
        snprintf(c->reply_text, sizeof(c->reply_text), "%s", m->text != NULL ? m->text : "");
        c->dead_reply[0] = '\0';
        EMIT_AUDIO_RX_START(d, .audio_session_id = session);
    } else if (!c->reply_active || strcmp(session, c->reply.audio_session_id) != 0) {
        if (strcmp(session, c->dead_reply) != 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "frame seq %lld of %s without seq 0", (long long)m->seq,
                     session);
            seq_gap(d, session, msg);
        }
        return;
    }
    bool complete = false;
    teddy_msg_error_t err;
    if (teddy_audio_rx_feed(&c->reply, m, &complete, &err) != ESP_OK) {
        seq_gap(d, session, err.message);
        c->reply_active = false;
        play_end(d, session, true);
        pending_done(d);
        return;
    }
    play_frame(d, session, m->seq, m->pcm, m->pcm_len);
    if (complete) {
        end_reply(d, false);
    }
}

void dev_chat_on_message(tdev_t *d, const teddy_server_msg_t *m)
{
    if (m->type == TEDDY_SMSG_TEXT_RESPONSE) {
        EMIT_TEXT_RX(d, .text = m->text, .transcript = m->transcript);
    } else if (m->type == TEDDY_SMSG_AUDIO_RESPONSE) {
        on_audio(d, m);
    } else if (m->type == TEDDY_SMSG_ERROR) {
        const char *code = m->error_code != NULL ? m->error_code : "";
        const char *text = m->error_message != NULL ? m->error_message : "";
        char qcode[TEDDY_ANSWER_CODE_SIZE], qmessage[TEDDY_ANSWER_TEXT_SIZE];
        teddy_quote(code, strlen(code), qcode, TEDDY_SERVER_CODE_MAX_BYTES); /* SPEC §8.1 */
        teddy_quote(text, strlen(text), qmessage, TEDDY_SERVER_TEXT_MAX_BYTES);
        EMIT_ERROR(d, .code = qcode, .message = qmessage);
        for (size_t i = 0; i < sizeof(REPLY_ERRORS) / sizeof(REPLY_ERRORS[0]); i++) {
            if (strcmp(code, REPLY_ERRORS[i]) == 0) {
                pending_done(d);
            }
        }
    }
    dev_settle(d);
}

void dev_chat_on_playback_done(tdev_t *d, const char *session)
{
    for (int i = 0; i < DEV_PLAYING_MAX; i++) {
        if (strcmp(d->chat.playing[i], session) == 0) {
            d->chat.playing[i][0] = '\0';
        }
    }
    dev_settle(d);
}

void dev_chat_on_link_lost(tdev_t *d)
{
    /* The WebSocket ended: abandon the utterance and any reply in flight. */
    dev_chat_t *c = &d->chat;
    if (c->capture.active) {
        teddy_effect_t fx = {.kind = TEDDY_FX_STOP_CAPTURE};
        fx.u.capture.id = c->capture.id;
        dev_fx(d, &fx);
        if (c->capture.started) {
            dev_log(d, "utterance %s aborted: link lost", c->capture.session);
        } else { /* the command is still waiting for its one reply (SPEC §9.3) */
            EMIT_CMD_ERROR(d, .cmd = TEDDY_CMDS[c->capture.command].name, .reason = "bad_argument",
                           .message = "link lost");
        }
        dev_chat_free(d);
    }
    if (c->reply_active) {
        c->reply_active = false;
        play_end(d, c->reply.audio_session_id, true);
    }
    c->pending = 0;
}
