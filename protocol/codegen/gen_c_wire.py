"""Writes teddy_wire.h: protocol/constants.py for C, so the firmware never re-types them.

Every plain `Final` int and str of protocol.constants becomes `TEDDY_<NAME>` (paths,
limits, audio format, the event prefix), `CloseCode` members `TEDDY_CLOSE_<MEMBER>`,
`CHIP_IDS` one `TEDDY_CHIP_ID_<CHIP>` each plus an initializer list, and tuples of names
an initializer list with its count. Regular expressions stay Python-only.
"""

from __future__ import annotations

import enum
import re
from typing import Final

from protocol import constants
from protocol.codegen.cfmt import define
from protocol.codegen.output import Output, Sources, c_banner, c_str, upper

HEADER = "firmware/components/teddy_model/include/teddy_wire.h"
# Derived tables C does not need (CHIP_NAMES is CHIP_IDS the other way round).
_SKIP: Final = frozenset({"CHIP_NAMES"})


def _value(name: str, value: object) -> list[str]:
    if isinstance(value, bool):
        return [define(f"TEDDY_{name}", "1" if value else "0")]
    if isinstance(value, int):
        suffix = "u" if value > 2**31 - 1 else ""
        return [define(f"TEDDY_{name}", f"{value}{suffix}")]
    if isinstance(value, str):
        return [define(f"TEDDY_{name}", c_str(value))]
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        items = ", ".join(c_str(v) for v in value)
        return [
            define(f"TEDDY_{name}_COUNT", str(len(value))),
            define(f"TEDDY_{name}_INIT", f"{{{items}}}"),
        ]
    if isinstance(value, dict) and name == "CHIP_IDS":
        lines = [define(f"TEDDY_CHIP_ID_{upper(chip)}", str(cid)) for chip, cid in value.items()]
        pairs = ", ".join(f"{{{c_str(chip)}, {cid}}}" for chip, cid in value.items())
        return [
            *lines,
            define("TEDDY_CHIP_COUNT", str(len(value))),
            "/* {name, chip id} pairs, for a table of your own struct type. */",
            define("TEDDY_CHIP_IDS_INIT", f"{{{pairs}}}"),
        ]
    return []


def generate(sources: Sources) -> Output:
    title = "teddy_wire.h - the wire constants of protocol/constants.py for the C firmware."
    body = [
        *c_banner(sources, title, constants=True).splitlines(),
        "#pragma once",
        "",
        define("TEDDY_CONSTANTS_SHA256", c_str(sources.constants_sha256)),
        "",
    ]
    for name, value in vars(constants).items():
        if name.startswith("_") or not name.isupper() or name in _SKIP:
            continue
        if isinstance(value, re.Pattern):
            continue
        body += _value(name, value)
    for name, value in vars(constants).items():
        if (
            isinstance(value, type)
            and issubclass(value, enum.IntEnum)
            and value is not enum.IntEnum
        ):
            body += ["", f"/* {value.__doc__} */"]
            body += [
                define(f"TEDDY_{upper(name.removesuffix('Code'))}_{m.name}", str(m.value))
                for m in value
            ]
    return Output(HEADER, "\n".join(body) + "\n")
