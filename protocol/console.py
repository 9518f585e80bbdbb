"""Serial console command grammar shared by every target.

Owns SPEC §9.1 (the grammar); the command table, argument forms, choices and `set` keys
with their value rules are the device model's (`protocol.device_model.COMMAND_SPECS`,
`SET_KEY_SPECS`). One command per line; the first word names the command. `talk`
takes a clip name or a double-quoted phrase (shlex-style quoting, `\\"` and `\\\\`
escapes), `text` takes the rest of the line verbatim, `set` takes a key and a
value that may be quoted, `quirk` takes nothing, `on NAME [VALUE]` or `off NAME` (the
device model's `QUIRK_SPECS`, SPEC Appendix C). Targets answer with `cmd.ok` / `cmd.error{reason}`
event lines (SPEC §8) whose reason is `CommandError.reason`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Final

from protocol.device import quirk_int, quirk_range_message
from protocol.device_model import (
    COMMAND_NAMES,
    COMMAND_SPECS,
    QUIRK_SPECS,
    QUIRKS,
    SET_KEY_SPECS,
    SET_KEYS,
)
from protocol.errors import CommandError

__all__ = [
    "CHOICE_COMMANDS",
    "CLIP_PATTERN",
    "COMMANDS",
    "NO_ARG_COMMANDS",
    "SET_KEYS",
    "Command",
    "format_command",
    "parse_command",
]

COMMANDS: Final = COMMAND_NAMES
NO_ARG_COMMANDS: Final = frozenset(n for n, c in COMMAND_SPECS.items() if c.args == "none")
# Commands whose single argument is one word out of a fixed set.
CHOICE_COMMANDS: Final[dict[str, tuple[str, ...]]] = {
    name: spec.choices for name, spec in COMMAND_SPECS.items() if spec.args == "choice"
}
CLIP_PATTERN: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
_INT_PATTERN: Final = re.compile(r"-?[0-9]+")
_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+")
_QUOTES: Final = ("'", '"')


@dataclass(frozen=True)
class Command:
    """A parsed console command.

    `args` holds the words after the name (for `text`, the whole message; for
    `set`, key and value). `phrase` is set only for `talk "<phrase>"`, so a
    one-word phrase stays distinct from a clip name.
    """

    name: str
    args: tuple[str, ...] = ()
    phrase: str | None = None


def _valid_list() -> str:
    return "valid commands: " + ", ".join(COMMANDS)


def _split(rest: str, command: str) -> list[str]:
    try:
        return shlex.split(rest, comments=False, posix=True)
    except ValueError as exc:
        raise CommandError("bad_quoting", f"{command}: {exc}") from None


def _parse_talk(rest: str) -> Command:
    if not rest:
        raise CommandError("missing_argument", 'usage: talk <clip> | talk "<phrase>"')
    if rest.startswith(_QUOTES):
        words = _split(rest, "talk")
        if len(words) != 1:
            raise CommandError("extra_argument", "talk: quote the whole phrase once")
        if not words[0].strip():
            raise CommandError("bad_argument", "talk: empty phrase")
        return Command("talk", phrase=words[0])
    if not CLIP_PATTERN.fullmatch(rest):
        raise CommandError(
            "bad_argument", f'talk: bad clip name {rest!r}; quote phrases: talk "..."'
        )
    return Command("talk", (rest,))


def value_ok(key: str, value: str) -> bool:
    """True when `value` passes the model's rule for `set` key `key` (SPEC §9.2)."""
    spec = SET_KEY_SPECS[key]  # type: ignore[index]  # callers pass a SET_KEYS name
    if spec.rule == "integer":
        # child_age has no min/max on purpose: scenarios set 2 or 14 to test the
        # server's COPPA refusal (SPEC §6.1).
        if not _INT_PATTERN.fullmatch(value):
            return False
        number = int(value)
        return (spec.min is None or number >= spec.min) and (spec.max is None or number <= spec.max)
    if spec.rule == "id":
        limit = spec.max_len if spec.max_len is not None else len(value)
        return bool(_ID_PATTERN.fullmatch(value)) and len(value) <= limit
    return bool(value.strip())  # nonblank


def _check_set_value(key: str, value: str) -> None:
    if not value_ok(key, value):
        raise CommandError("bad_value", f"set {key}: bad value {value!r}")


def _parse_key(words: list[str], command: str, count: int) -> str:
    usage = f"usage: {command} <key>{' <value>' if count == 2 else ''}"
    if len(words) < count:
        raise CommandError("missing_argument", usage)
    if len(words) > count:
        raise CommandError("extra_argument", usage + " (quote values with spaces)")
    if words[0] not in SET_KEYS:
        raise CommandError(
            "unknown_key", f"{command}: unknown key {words[0]!r}; keys: {', '.join(SET_KEYS)}"
        )
    return words[0]


def _parse_choice(name: str, rest: str) -> Command:
    choices = CHOICE_COMMANDS[name]
    usage = f"usage: {name} {'|'.join(choices)}"
    words = rest.split()
    if not words:
        raise CommandError("missing_argument", usage)
    if len(words) > 1:
        raise CommandError("extra_argument", usage)
    if words[0] not in choices:
        raise CommandError("bad_argument", usage)
    return Command(name, (words[0],))


def _parse_quirk(words: list[str]) -> Command:
    """`quirk` | `quirk on NAME [VALUE]` | `quirk off NAME` (SPEC §9.2, Appendix C)."""
    usage = "usage: quirk | quirk on <name> [value] | quirk off <name>"
    if not words:
        return Command("quirk")
    if words[0] not in ("on", "off"):
        raise CommandError("bad_argument", usage)
    if len(words) < 2:
        raise CommandError("missing_argument", usage)
    name = words[1]
    if name not in QUIRKS:
        known = ", ".join(QUIRKS)
        raise CommandError("bad_argument", f"quirk: unknown quirk {name!r}; quirks: {known}")
    wants = QUIRK_SPECS[name].value
    count = 3 if words[0] == "on" and wants is not None else 2
    if len(words) < count:
        raise CommandError("missing_argument", f"usage: quirk on {name} <{wants}>")
    if len(words) > count:
        raise CommandError("extra_argument", f"quirk {words[0]} {name} takes no further value")
    if count == 3 and QUIRK_SPECS[name].min is not None and quirk_int(name, words[2]) is None:
        raise CommandError("bad_value", quirk_range_message(name))
    return Command("quirk", tuple(words))


def command_word(line: str) -> str:
    """The first word of `line` as typed ("" for a blank line): the `cmd` of its reply.

    SPEC §9.3: `cmd.ok`/`cmd.error` carry it as `cmd`, also for a line the parser refuses.
    """
    words = line.split(None, 1)
    return words[0] if words else ""


def parse_command(line: str) -> Command:
    """Parse one console line; raises CommandError (its message lists valid commands)."""
    text = line.rstrip("\r\n").strip()
    if not text:
        raise CommandError("empty", "empty command; " + _valid_list())
    name = command_word(text)
    rest = text[len(name) :].strip()
    if name not in COMMANDS:
        raise CommandError("unknown_command", f"unknown command {name!r}; " + _valid_list())
    form = COMMAND_SPECS[name].args  # narrowed by `name in COMMANDS`
    if form == "none":
        if rest:
            raise CommandError("extra_argument", f"{name} takes no arguments")
        return Command(name)
    if form == "choice":
        return _parse_choice(name, rest)
    if form == "talk":
        return _parse_talk(rest)
    if form == "rest":
        if not rest:
            raise CommandError("missing_argument", f"usage: {name} <message...>")
        return Command(name, (rest,))
    words = _split(rest, name)
    if form == "quirk":
        return _parse_quirk(words)
    if form == "get":
        return Command(name, (_parse_key(words, name, 1),))
    key = _parse_key(words, name, 2)
    _check_set_value(key, words[1])
    return Command(name, (key, words[1]))


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _needs_quotes(value: str) -> bool:
    return not value or any(ch.isspace() or ch in "\"'\\#" for ch in value)


def format_command(cmd: Command) -> str:
    """The canonical console line for `cmd` (parse_command(format_command(c)) == c)."""
    if cmd.name == "talk" and cmd.phrase is not None:
        return f"talk {_quote(cmd.phrase)}"
    if cmd.name == "set" and len(cmd.args) == 2:
        key, value = cmd.args
        return f"set {key} {_quote(value) if _needs_quotes(value) else value}"
    if cmd.name == "quirk" and len(cmd.args) == 3:
        value = cmd.args[2]
        return f"quirk on {cmd.args[1]} {_quote(value) if _needs_quotes(value) else value}"
    return " ".join((cmd.name, *cmd.args))
