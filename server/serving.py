"""The one uvicorn configuration of the reference server (``teddy-server serve`` and tests).

Owns how an app built by ``server.app.create_app`` is put on a socket: the WebSocket
implementation, its 64 KiB transport frame cap (larger frames close 1009, SPEC §6.2, §6.6)
and the connection deadlines of SPEC §1.4 (``ServerSettings.timeouts``, enforced by
``server.http_timeouts``). ``server.cli`` and ``server.embedded`` both call
:func:`uvicorn_config`, so the command line and the in-process server cannot drift apart.
"""

from __future__ import annotations

from typing import Literal

import uvicorn
from fastapi import FastAPI

from protocol.constants import WS_TRANSPORT_MAX_BYTES
from server.http_timeouts import timed_h11_protocol
from server.settings import ServerSettings

Lifespan = Literal["auto", "on", "off"]


def uvicorn_config(
    app: FastAPI,
    settings: ServerSettings,
    *,
    host: str,
    port: int,
    log_level: str,
    lifespan: Lifespan = "auto",
) -> uvicorn.Config:
    """The uvicorn configuration serving ``app`` with the transport rules of ``settings``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan=lifespan,
        http=timed_h11_protocol(settings.timeouts),
        ws="websockets-sansio",
        ws_max_size=WS_TRANSPORT_MAX_BYTES,
    )
