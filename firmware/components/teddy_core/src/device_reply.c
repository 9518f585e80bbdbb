/*
 * device_reply.c - the downlink half of the chat (emulator/core/chat.py on_message).
 *
 * text_response -> text.rx{text,transcript}; audio_response frames reassembled in
 * seq order (SPEC §7.3) and played as they come; the reply's end prints
 * audio.rx.end{bytes,frames,text}. A gap prints error{audio_seq_gap} and cuts that
 * reply; a new seq 0 cuts the previous reply short; error frames print error{code}
 * and answer a pending utterance when they are one of the SPEC §6.3 reply errors.
 */
#include <stdio.h>
#include <string.h>

#include "device_internal.h"

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
    teddy_effect_t fx = {.kind = TEDDY_FX_PLAY};
    fx.u.audio.session = session;
    fx.u.audio.pcm = m->pcm;
    fx.u.audio.len = m->pcm_len;
    dev_fx(d, &fx);
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
