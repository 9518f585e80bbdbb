"""Expected device mistakes on the chat WebSocket are logged at info, without a traceback.

Owns :class:`ClientMistakeFilter`. uvicorn logs a text frame that is not UTF-8 with
``logger.exception`` on ``uvicorn.error`` (an error and a traceback) before it closes the
connection with 1007, which is the right answer to the device (RFC 6455 §8.1). A device
that sends garbage is an expected event, not a fault of the server, so this filter turns
that one record into a single info line; every other record passes unchanged.
"""

from __future__ import annotations

import logging

UVICORN_LOGGER = "uvicorn.error"
# What uvicorn's websocket protocols log for a text frame that does not decode as UTF-8.
_MISTAKES = ("Invalid UTF-8 sequence received from client.",)


class ClientMistakeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.getMessage() in _MISTAKES:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = f"{record.getMessage()} (closed with 1007)"
            record.args = None
            record.exc_info, record.exc_text = None, None
        return True


def install() -> None:
    """Add the filter to uvicorn's logger once (idempotent)."""
    logger = logging.getLogger(UVICORN_LOGGER)
    if not any(isinstance(f, ClientMistakeFilter) for f in logger.filters):
        logger.addFilter(ClientMistakeFilter())
