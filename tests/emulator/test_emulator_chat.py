"""The emulated board against the reference server: boot, claim, chat, config cache, console."""

from __future__ import annotations

import time
import wave

import pytest

from tests.emulator.helpers import Rig, boot_to_idle

pytestmark = pytest.mark.emu


async def test_boot_claims_and_opens_the_websocket(rig: Rig) -> None:
    host = rig.board()
    started = time.perf_counter()
    await host.start()
    claim = await rig.lines.wait("claim.ok")
    claim_ms = (time.perf_counter() - started) * 1000
    opened = await rig.lines.wait("ws.open")
    boot = rig.lines.named("boot")[0]
    assert boot.data == {
        "fw_version": "1.0.0",
        "slot": "ota_0",
        "reset_reason": "poweron",
        "device_id": "Teddy-ESP32-0001",
    }
    assert claim.data["child_id"] == "child-001" and claim.data["age"] == 7
    assert str(opened.data["url"]).endswith("/api/v1/esp32/private/chat")
    states = [(e.data["from"], e.data["to"]) for e in rig.lines.named("state")]
    assert states[:6] == [
        ("boot", "wifi"),
        ("wifi", "config"),
        ("config", "time_sync"),
        ("time_sync", "claiming"),
        ("claiming", "connecting"),
        ("connecting", "idle"),
    ]
    assert claim_ms < 2000, f"boot -> claim.ok took {claim_ms:.0f} ms on loopback"
    assert host.state == "idle"


async def test_talk_phrase_gets_a_spoken_reply_and_wavs(rig: Rig) -> None:
    await boot_to_idle(rig)
    mark = rig.lines.mark()
    assert rig.host is not None
    await rig.host.write_line('talk "hello teddy"')
    tx_end = await rig.lines.wait("audio.tx.end", since=mark)
    text = await rig.lines.wait("text.rx", since=mark)
    rx_end = await rig.lines.wait("audio.rx.end", since=mark)
    await rig.lines.wait("state", lambda d: d["to"] == "idle", since=mark)
    session = tx_end.data["audio_session_id"]
    assert rig.lines.named("cmd.ok")[-1].data == {"cmd": "talk"}
    assert text.data["transcript"] == "hello teddy"
    assert rx_end.data["audio_session_id"] == session and int(str(rx_end.data["bytes"])) > 0
    assert rx_end.data["text"] == text.data["text"]
    # SPEC §7.2: full 4096-byte chunks, then the remainder (maybe empty) with is_final.
    assert tx_end.data["chunks"] == int(str(tx_end.data["bytes"])) // 4096 + 1
    with wave.open(str(rig.root / "audio" / f"rx-{session}.wav"), "rb") as wav:
        assert wav.getframerate() == 16000 and wav.getnframes() * 2 == rx_end.data["bytes"]
    assert (rig.root / "audio" / f"tx-{session}.wav").is_file()


async def test_text_and_clip_and_too_short_clip(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    mark = rig.lines.mark()
    await host.write_line("text tell me a joke")
    text = await rig.lines.wait("text.rx", since=mark)
    await rig.lines.wait("audio.rx.end", since=mark)
    assert text.data["transcript"] == "" and text.data["text"]
    mark = rig.lines.mark()
    await host.write_line("talk blip")  # 50 ms: under the 0.1 s minimum
    error = await rig.lines.wait("error", since=mark)
    assert error.data["code"] == "audio_too_short"
    await rig.lines.wait("state", lambda d: d["to"] == "idle", since=mark)


async def test_config_etag_is_cached_across_boots(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    first = rig.lines.named("config.ok")[0]
    assert first.data["cached"] is False and str(first.data["etag"]).startswith('"')
    mark = rig.lines.mark()
    await host.write_line("reboot")
    boot = await rig.lines.wait("boot", since=mark)
    assert boot.data["reset_reason"] == "sw"
    second = await rig.lines.wait("config.ok", since=mark)
    assert second.data == {"etag": first.data["etag"], "cached": True}
    # Tokens survived in NVS: the second boot refreshes instead of claiming (SPEC §3.2).
    await rig.lines.wait("token.refreshed", since=mark)
    await rig.lines.wait("ws.open", since=mark)
    assert not [e for e in rig.lines.events[mark:] if e.name == "claim.ok"]


async def test_console_errors_carry_the_reason(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    cases = {
        "frobnicate": ("frobnicate", "unknown_command"),
        "button hold": ("button", "bad_argument"),
        "button release": ("button", "bad_argument"),
        "set colour red": ("set", "unknown_key"),
        "set volume 300": ("set", "bad_value"),
        "set child_name Sam Lee": ("set", "extra_argument"),
        'set child_name "Sam': ("set", "bad_quoting"),
        "reboot now": ("reboot", "extra_argument"),
        "talk": ("talk", "missing_argument"),
        "talk no-such-clip": ("talk", "bad_value"),
        "get": ("get", "missing_argument"),
    }
    for line, (cmd, reason) in cases.items():
        mark = rig.lines.mark()
        await host.write_line(line)
        reply = await rig.lines.wait("cmd.error", since=mark)
        assert (reply.data["cmd"], reply.data["reason"]) == (cmd, reason), line
        assert reply.data["message"]
    mark = rig.lines.mark()
    await host.write_line("")  # SPEC §9.1: no reply at all
    await host.write_line("set child_name 'Sam Lee'")
    await host.write_line("get child_name")
    await host.write_line("set volume 30")
    await host.write_line("status")
    await host.write_line("help")
    oks = [e.data for e in rig.lines.events[mark:] if e.name.startswith("cmd.")]
    assert oks[0] == {"cmd": "set", "key": "child_name", "value": "Sam Lee"}
    assert oks[1] == {"cmd": "get", "key": "child_name", "value": "Sam Lee"}
    assert oks[2] == {"cmd": "set", "key": "volume", "value": 30}
    assert oks[3]["cmd"] == "status" and oks[3]["state"] == "idle" and oks[3]["ws"] is True
    assert oks[3]["child_name"] == "Sam Lee" and oks[3]["fw_version"] == "1.0.0"
    assert "factory-reset" in list(oks[4]["commands"])  # type: ignore[call-overload]


async def test_settings_persist_and_age_refusal_waits_for_set(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    mark = rig.lines.mark()
    await host.write_line("set child_age 14")
    await host.write_line("claim")
    refused = await rig.lines.wait("ws.refused", since=mark)
    assert refused.data["reason"] == "age_out_of_range"  # the 403 body's code (SPEC §6.1)
    assert refused.data["status"] == 403 and "14" in str(refused.data["message"])  # §8.2
    await rig.lines.wait("state", lambda d: d["to"] == "offline", since=mark)
    mark = rig.lines.mark()
    await host.write_line("set child_age 9")
    await rig.lines.wait("ws.open", since=mark)
    mark = rig.lines.mark()
    await host.power_cut()
    await host.start()
    boot = await rig.lines.wait("boot", since=mark)
    assert boot.data["reset_reason"] == "poweron"
    await rig.lines.wait("ws.open", since=mark)
    await host.write_line("get child_age")
    got = await rig.lines.wait("cmd.ok", lambda d: d["cmd"] == "get", since=mark)
    assert got.data["value"] == 9


async def test_button_press_and_release_sends_the_microphone(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    mark = rig.lines.mark()
    await host.write_line("button press")
    await rig.lines.wait("audio.tx.start", since=mark)
    await host.write_line("button release")
    text = await rig.lines.wait("text.rx", since=mark)
    assert text.data["transcript"] == "hello teddy"
    await rig.lines.wait("audio.rx.end", since=mark)


async def test_wifi_down_closes_normally_and_up_reconnects(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    mark = rig.lines.mark()
    await host.write_line("wifi down")
    closed = await rig.lines.wait("ws.close", since=mark)
    assert (closed.data["code"], closed.data["reason"]) == (1000, "normal")
    assert str(closed.data["url"]).endswith("/api/v1/esp32/private/chat")  # SPEC §8.2
    await rig.lines.wait("wifi.down", since=mark)
    await host.write_line("text hello")
    refused = await rig.lines.wait("cmd.error", since=mark)
    assert refused.data["reason"] == "bad_argument"
    await host.write_line("wifi up")
    await rig.lines.wait("wifi.up", since=mark)
    await rig.lines.wait("ws.open", since=mark)


async def test_factory_reset_forgets_settings_and_claims_again(rig: Rig) -> None:
    host = await boot_to_idle(rig)
    await host.write_line("set child_name Bob")
    mark = rig.lines.mark()
    await host.write_line("factory-reset")
    await rig.lines.wait("boot", since=mark)
    await rig.lines.wait("claim.ok", since=mark)  # tokens were erased
    config = await rig.lines.wait("config.ok", since=mark)
    assert config.data["cached"] is False
    await host.write_line("get child_name")
    got = await rig.lines.wait("cmd.ok", lambda d: d["cmd"] == "get", since=mark)
    assert got.data["value"] == "Friend"  # not Bob: the claim's child_profile.name (SPEC §9.2)


async def test_realtime_pacing_sends_one_chunk_per_128_ms(rig: Rig) -> None:
    host = await boot_to_idle(rig, pacing="realtime")
    mark = rig.lines.mark()
    await host.write_line("talk tone")  # 1 s: 7 full chunks and a 3328-byte final one
    start = await rig.lines.wait("audio.tx.start", since=mark)
    end = await rig.lines.wait("audio.tx.end", since=mark)
    assert end.data["chunks"] == 8 and end.data["bytes"] == 32000
    assert 900 <= end.uptime_ms - start.uptime_ms <= 1500


async def test_a_firmware_bug_panics_and_reboots(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    from emulator.core.commands import Commands

    def broken(self: Commands, command: object) -> None:
        raise RuntimeError("bug")

    host = await boot_to_idle(rig)
    monkeypatch.setattr(Commands, "_help", broken)
    mark = rig.lines.mark()
    await host.write_line("help")
    boot = await rig.lines.wait("boot", since=mark)
    assert boot.data["reset_reason"] == "panic"
    assert any(line.startswith("Guru Meditation Error") for line in rig.lines.lines)
    await rig.lines.wait("ws.open", since=mark)
