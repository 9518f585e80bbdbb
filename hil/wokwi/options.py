"""`WokwiOptions`: what the `wokwi` target uploads, where it simulates, how the board calls home.

One frozen dataclass, filled by `teddy-hil run` and the pytest plugin from their flags,
with the environment variables below as defaults read at those edges only. The token is
set through `$WOKWI_CLI_TOKEN` alone (a flag would show it in `ps`); `api_url` is passed
to wokwi-client explicitly, so wokwi-client never reads `$WOKWI_CLI_SERVER` itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Final
from urllib.parse import urlsplit

from hil.targets.options import TargetOptions, option, path
from hil.wokwi.project import DEFAULT_BUILD, DEFAULT_DIAGRAM, ENV_BUILD, ENV_ELF

ENV_TOKEN: Final = "WOKWI_CLI_TOKEN"  # noqa: S105 (the variable's name, not a secret)
ENV_API_URL: Final = "WOKWI_CLI_SERVER"  # wokwi-client's own spelling, kept for its users
ENV_PUBLIC_URL: Final = "TEDDY_WOKWI_SERVER_URL"
ENV_DIAGRAM: Final = "TEDDY_WOKWI_DIAGRAM"
CLOUD_API_URL: Final = "wss://wokwi.com/api/ws/beta"  # wokwi_client.constants.DEFAULT_WS_URL


@dataclass(frozen=True)
class WokwiOptions(TargetOptions):
    """The build and circuit to simulate, the Wokwi API server, and the reference server URL."""

    label: ClassVar[str] = "wokwi"

    build: Path = field(
        default=DEFAULT_BUILD,
        metadata=option(
            flag="--wokwi-build",
            env=ENV_BUILD,
            parse=path,
            metavar="PATH",
            help="ESP-IDF build folder (flasher_args.json) or firmware .bin to upload",
        ),
    )
    elf: Path | None = field(
        default=None,
        metadata=option(
            flag="--wokwi-elf",
            env=ENV_ELF,
            parse=path,
            metavar="PATH",
            help="ELF of a firmware .bin (symbols for the simulator)",
            default_text="<name>.elf beside the .bin, or the build's",
        ),
    )
    diagram: Path = field(
        default=DEFAULT_DIAGRAM,
        metadata=option(
            flag="--wokwi-diagram",
            env=ENV_DIAGRAM,
            parse=path,
            metavar="FILE",
            help="the circuit (Wokwi diagram.json: DevKit, button on GPIO0)",
        ),
    )
    api_url: str = field(
        default=CLOUD_API_URL,
        metadata=option(
            flag="--wokwi-api-url",
            env=ENV_API_URL,
            metavar="URL",
            help="Wokwi simulation API (a local `teddy-hil wokwi-server` prints its ws:// URL)",
            default_text=f"Wokwi's cloud, {CLOUD_API_URL}",
        ),
    )
    public_url: str | None = field(
        default=None,
        metadata=option(
            flag="--wokwi-public-url",
            env=ENV_PUBLIC_URL,
            metavar="URL",
            help="the harness's reference server as the simulated board reaches it (https://...)",
            default_text="the harness's URL on host.wokwi.internal (Wokwi's private gateway)",
        ),
    )
    token: str | None = field(
        default=None,
        repr=False,  # a secret: never in a repr, a log or a report
        metadata=option(
            env=ENV_TOKEN,
            help="Wokwi CI token from https://wokwi.com/dashboard/ci",
            default_text="none: the target is unavailable",
        ),
    )

    def check(self) -> None:
        api = urlsplit(self.api_url)
        if api.scheme not in ("ws", "wss") or not api.hostname:
            raise self.problem(
                "api_url",
                f"{self.api_url!r} is not a ws:// or wss:// URL",
                f"give the server's WebSocket URL, e.g. {CLOUD_API_URL}",
            )
        if self.public_url is not None:
            public = urlsplit(self.public_url)
            if public.scheme not in ("http", "https") or not public.hostname:
                raise self.problem(
                    "public_url",
                    f"{self.public_url!r} is not an http:// or https:// URL",
                    "give the URL the simulated board can reach, e.g. https://teddy-ci.example.org",
                )
        if self.token is not None and not self.token.strip():
            raise self.problem("token", "is blank", "set it to a Wokwi CI token, or leave it unset")
