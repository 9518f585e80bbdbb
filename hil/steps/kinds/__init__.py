"""The built-in step kinds, one module each; `BUILTIN` is their order.

Each module `hil.steps.kinds.<name>` ends with `KIND = StepKind(name=<name>, ...)`
(hil.steps.kind). The order here is the order of the JSON Schema, of the valid step
names in load errors and of the step table in hil/README.md.
"""

from __future__ import annotations

from typing import Final

BUILTIN: Final = (
    "console",
    "talk",
    "button",
    "expect",
    "expect_line",
    "expect_server",
    "expect_reply",
    "expect_audio",
    "expect_absent",
    "expect_wire",
    "expect_wire_absent",
    "expect_files",
    "http",
    "forge_token",
    "ws_send",
    "publish",
    "set_config",
    "power_cut",
    "reboot",
    "server_fault",
    "wait",
    "include",
)
