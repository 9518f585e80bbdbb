"""The serial console of the emulated firmware: SPEC §9 commands and their replies.

Owns the device's reaction to each command line. Parsing is `protocol.console`; every
non-empty line gets exactly one `cmd.ok` or `cmd.error{cmd,reason}` (SPEC §9.3), printed
when the command is accepted or refused. `talk` and `button press` reply once their audio
source opened (a missing clip is `bad_value`); everything else replies at once. Refusals
carry an extra `message` member saying why (allowed by SPEC §8.1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from emulator.core.effects import Reboot, SetVolume, WifiConnect
from protocol.console import COMMANDS, Command, command_word, parse_command
from protocol.device_events import (
    CmdErrorEvent,
    CmdOkEvent,
    CmdOkGetEvent,
    CmdOkHelpEvent,
    CmdOkQuirkEvent,
    CmdOkSetEvent,
    CmdOkStatusEvent,
)
from protocol.device_model import (
    FACTORY_RESET_NAMESPACES,
    QUIRKS,
    SET_KEY_SPECS,
    CommandErrorReason,
    CommandName,
    NvsKey,
    SetKey,
)
from protocol.errors import CommandError

if TYPE_CHECKING:
    from emulator.core.device import Device


class Refused(Exception):  # noqa: N818 - a console refusal, reported as cmd.error
    def __init__(self, reason: CommandErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason: CommandErrorReason = reason
        self.message = message


class Commands:
    """Runs parsed console commands against the device."""

    def __init__(self, device: Device) -> None:
        self.dev = device
        self.ctx = device.ctx

    def handle(self, line: str) -> None:
        text = line.strip()
        if not text:
            return  # SPEC §9.1: an empty line gets no reply
        try:
            command = parse_command(text)
        except CommandError as exc:
            self._error(command_word(text), exc.reason, exc.message)
            return
        try:
            getattr(self, "_" + command.name.replace("-", "_"))(command)
        except Refused as exc:
            self._error(command.name, exc.reason, exc.message)

    def _ok(self, cmd: CommandName) -> None:
        self.ctx.emit(CmdOkEvent(cmd=cmd))

    def _error(self, cmd: str, reason: CommandErrorReason, message: str) -> None:
        self.ctx.emit(CmdErrorEvent(cmd=cmd, reason=reason, message=message))

    def _need_chat(self) -> None:
        if not self.dev.link.is_open:
            raise Refused("bad_argument", "not connected (no ws.open yet)")
        if self.dev.chat.capture is not None:
            raise Refused("bad_argument", "busy: an utterance is in progress")
        if self.dev.ota.updating:
            raise Refused("bad_argument", "busy: a firmware update is in progress")

    # --- chat -------------------------------------------------------------------------

    def _talk(self, command: Command) -> None:
        self._need_chat()
        if command.phrase is not None:
            self.dev.chat.start_capture(command="talk", kind="phrase", value=command.phrase)
        else:
            self.dev.chat.start_capture(command="talk", kind="clip", value=command.args[0])

    def _text(self, command: Command) -> None:
        if not self.dev.link.is_open:
            raise Refused("bad_argument", "not connected (no ws.open yet)")
        self._ok("text")
        self.dev.chat.send_text(command.args[0])

    def _button(self, command: Command) -> None:
        if command.args[0] == "press":
            self._need_chat()
            self.dev.chat.start_capture(command="button", kind="live")
            return
        capture = self.dev.chat.capture
        if capture is None or capture.command != "button":
            raise Refused("bad_argument", "button release without press")
        self._ok("button")
        self.dev.chat.stop_capture()

    # --- system -----------------------------------------------------------------------

    def _ota(self, command: Command) -> None:
        del command
        if self.dev.ota.busy:
            raise Refused("bad_argument", "an update check or download is already running")
        if not self.dev.config.ota_enabled:
            raise Refused("bad_argument", "ota disabled by config (features.ota false)")
        self._ok("ota")
        self.dev.ota.check()

    def _reboot(self, command: Command) -> None:
        del command
        self._ok("reboot")  # SPEC §9.2: printed before the reset
        self.dev.going_down("reboot")
        self.ctx.do(Reboot("sw"))

    def _factory_reset(self, command: Command) -> None:
        del command
        self._ok("factory-reset")
        for namespace in FACTORY_RESET_NAMESPACES:  # SPEC §9.2: mfg and sys survive
            self.ctx.nvs_erase(namespace)
        self.dev.going_down("reboot")
        self.ctx.do(Reboot("sw"))

    def _claim(self, command: Command) -> None:
        del command
        self._ok("claim")
        self.dev.link.close(1000, "normal")
        self.dev.auth.drop_tokens()
        if self.ctx.wifi_up:
            self.dev.auth.claim()

    def _wifi(self, command: Command) -> None:
        self._ok("wifi")
        if command.args[0] == "down":
            joining = self.ctx.state == "wifi" and not self.ctx.wifi_off
            self.ctx.wifi_off = True
            if self.ctx.wifi_up or joining:
                self.dev.wifi_lost(by_user=True)
            return
        self.ctx.wifi_off = False
        if not self.ctx.wifi_up:
            self.ctx.set_state("wifi")
            self.ctx.do(WifiConnect())

    def _help(self, command: Command) -> None:
        del command
        self.ctx.emit(CmdOkHelpEvent(commands=COMMANDS))

    def _quirk(self, command: Command) -> None:
        """SPEC §9.2 `quirk`: switch a quirk of Appendix C (in RAM until the next boot)."""
        if command.args:
            switch, name = command.args[0], command.args[1]
            quirk = next(q for q in QUIRKS if q == name)  # the parser checked the name
            if switch == "on":
                self.ctx.quirks[quirk] = command.args[2] if len(command.args) > 2 else ""
            else:
                self.ctx.quirks.pop(quirk, None)
        self.ctx.emit(CmdOkQuirkEvent(quirks=self.ctx.active_quirks()))

    def _status(self, command: Command) -> None:
        del command
        ctx = self.ctx
        self.ctx.emit(
            CmdOkStatusEvent(
                state=ctx.state,
                fw_version=ctx.boot.fw_version,
                slot=ctx.boot.slot,
                device_id=ctx.device_id,
                child_id=ctx.child_id,
                child_name=ctx.child_name,
                child_age=ctx.child_age,
                wifi=ctx.wifi_up,
                ws=self.dev.link.is_open,
            )
        )

    # --- settings (SPEC §9.2) -----------------------------------------------------------

    def _value(self, key: SetKey) -> int | str:
        values: dict[SetKey, int | str] = {
            "child_age": self.ctx.child_age,
            "child_id": self.ctx.child_id,
            "child_name": self.ctx.child_name,
            "server": self.ctx.server_url,
            "volume": self.ctx.volume,
        }
        return values[key]

    def _get(self, command: Command) -> None:
        key = _set_key(command.args[0])
        self.ctx.emit(CmdOkGetEvent(key=key, value=self._value(key)))

    def _set(self, command: Command) -> None:
        key, raw = _set_key(command.args[0]), command.args[1]
        spec = SET_KEY_SPECS[key]
        if spec.nvs.type == "str":
            self.ctx.nvs_set(cast(NvsKey[str], spec.nvs), raw)
        else:
            self.ctx.nvs_set_clamped(cast(NvsKey[int], spec.nvs), int(raw))
        self.ctx.emit(CmdOkSetEvent(key=key, value=self._value(key)))
        if key == "volume":
            self.ctx.do(SetVolume(self.ctx.volume))  # applied at once (SPEC §9.2)
        if key == "child_id":
            self.dev.auth.drop_tokens()  # they name the old child (SPEC §9.2)
        if key in ("child_age", "child_id", "child_name"):
            self.dev.link.release_hold()


def _set_key(name: str) -> SetKey:
    """The parser only accepts SET_KEYS names (protocol.console)."""
    for key in SET_KEY_SPECS:
        if key == name:
            return key
    raise AssertionError(f"parse_command let an unknown key through: {name!r}")
