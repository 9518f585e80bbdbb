"""The server-under-test flags of `teddy-hil run` / `conformance` and the pytest plugin.

`--server URL` tests a server that is already running instead of a fresh embedded reference
server per scenario (hil.runner.external); `--harness-token` unlocks its SPEC §11 admin API;
`--server-provisioning` names the devices and children it knows. The environment is read
here only as the default of `--harness-token`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Final

from hil.errors import HilError

if TYPE_CHECKING:
    from hil.runner.servers import ServerChoice

HARNESS_TOKEN_ENV: Final = "TEDDY_HARNESS_TOKEN"  # noqa: S105 (a variable's name)


# The flags' help, shared by `teddy-hil run`/`conformance` and the pytest plugin.
SERVER_HELP: Final = {
    "server": "test the server at URL (http://host:port) instead of an embedded reference "
    "server per scenario; scenarios needing server control are skipped unless it offers the "
    "harness admin API (SPEC §11)",
    "harness_token": "bearer token of the server's harness admin API "
    f"(default ${HARNESS_TOKEN_ENV})",
    "server_provisioning": "YAML of the device ids, OOB secrets and child ids the server knows "
    "(`teddy-server provision` format); scenarios take their identities from it",
}


def add_server_arguments(group: argparse._ActionsContainer) -> None:
    group.add_argument("--server", metavar="URL", help=SERVER_HELP["server"])
    group.add_argument("--harness-token", metavar="TOKEN", help=SERVER_HELP["harness_token"])
    group.add_argument(
        "--server-provisioning",
        metavar="FILE",
        type=Path,
        help=SERVER_HELP["server_provisioning"],
    )


def server_choice(url: str | None, *, token: str | None, provisioning: Path | None) -> ServerChoice:
    """The embedded reference server, or the one at `url` (a usage error if it is not a URL)."""
    from hil.runner.external import ExternalServer, ExternalServerOptions, load_known
    from hil.runner.servers import EmbeddedServer

    if url is None:
        if token or provisioning:
            raise HilError("--harness-token and --server-provisioning need --server URL")
        return EmbeddedServer()
    if not url.startswith(("http://", "https://")):
        raise HilError(f"--server {url!r}: give the server's base URL, e.g. http://127.0.0.1:8000")
    known = load_known(provisioning) if provisioning is not None else None
    return ExternalServer(ExternalServerOptions(url=url, harness_token=token, provisioning=known))


def server_from_args(args: argparse.Namespace, env: Mapping[str, str]) -> ServerChoice:
    token = args.harness_token
    if args.server is not None and token is None:  # the environment only as the default
        token = env.get(HARNESS_TOKEN_ENV) or None
    return server_choice(args.server, token=token, provisioning=args.server_provisioning)
