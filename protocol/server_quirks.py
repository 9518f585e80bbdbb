"""Legacy-server quirks: the closed vocabulary of the original server's defects (SPEC App. B).

A quirk names one way the original server broke the contract, so the reference server can
put that defect back on request (`teddy-server serve --quirk NAME`, a scenario's
`server: {quirks: [...]}`): firmware teams test that their device copes with a buggy
backend, and the harness proves that its scenarios catch each defect (a quirk no scenario
catches is a gap). This module is the one definition: each `Quirk` carries its name, the
original defect number (SPEC Appendix A; None where the original never had the protection
at all), the SPEC section it breaks and a one-line description. The server implements each
at the spot where the original behaved so; the scenario schema, the CLI's choices and its
--help, and SPEC Appendix B are generated from or checked against `QUIRKS`.

It lives in `protocol` because both the server and `hil.scenario` (which must not import
the server) need the names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final

from protocol.errors import ProtocolError


@dataclass(frozen=True)
class Quirk:
    """One defect of the original server that the reference server can reproduce."""

    name: str
    defect: int | None  # SPEC Appendix A numbering; None: not a numbered defect
    section: str  # the SPEC section whose rule it breaks, e.g. "§2.4"
    description: str  # what the server does instead, one line

    def label(self) -> str:
        """`name (defect N, §x)` for help texts and messages."""
        origin = f"defect {self.defect}, " if self.defect is not None else ""
        return f"{self.name} ({origin}{self.section})"


DOUBLE_PREFIX_ROUTES: Final = Quirk(
    "double_prefix_routes",
    1,
    "§1",
    "config, firmware manifest and chat are served only under a doubled prefix"
    " (/api/v1/esp32/api/v1/esp32/...): their SPEC paths answer 404 (the chat upgrade 403)",
)
LEGACY_WS_PATH_CRASH: Final = Quirk(
    "legacy_ws_path_crash",
    2,
    "§1",
    "an upgrade to /ws/esp32/connect reaches a handler that crashes on its first line"
    " (HTTP 500) instead of a 403",
)
CHILD_ID_AS_UUID: Final = Quirk(
    "child_id_as_uuid",
    14,
    "§1.3",
    "a child_id that is not a UUID (child-001, child-unknown) makes every answer the same"
    " canned fallback, whatever the child said",
)
NONCE_BURNED_BEFORE_HMAC: Final = Quirk(
    "nonce_burned_before_hmac",
    4,
    "§2.4",
    "the claim's nonce is spent before the HMAC and timestamp checks, so a corrected retry"
    " with the same nonce gets 409 nonce_reused",
)
DISABLED_DEVICE_500: Final = Quirk(
    "disabled_device_500",
    5,
    "§2.4",
    "a claim from a disabled device gets 500 internal_error instead of 403 device_disabled",
)
LEGACY_TOKEN_MINTING: Final = Quirk(
    "legacy_token_minting",
    7,
    "§3.3",
    "POST /api/v1/esp32/token/refresh exists and mints an access token for any device_id"
    " without proof, ignoring the old token",
)
CHAT_WITHOUT_JWT: Final = Quirk(
    "chat_without_jwt",
    8,
    "§6.1",
    "the chat upgrade is accepted without checking the Bearer token (refusals 1-4 and 7"
    " never happen)",
)
REPLY_IN_ONE_FRAME: Final = Quirk(
    "reply_in_one_frame",
    11,
    "§7.3",
    "the spoken reply goes out as one audio_response frame holding all its audio, far over"
    " 8192 bytes",
)
AUDIO_END_AFTER_FINAL_ERROR: Final = Quirk(
    "audio_end_after_final_error",
    12,
    "§6.5",
    "the audio_end after an is_final chunk is answered with error no_audio_data instead of"
    " being ignored",
)
ETAG_STRING_COMPARE: Final = Quirk(
    "etag_string_compare",
    17,
    "§4.2",
    "If-None-Match is compared with the ETag as one string (no W/, no list, no *), and a"
    " 304 carries neither ETag nor Cache-Control",
)
DASHBOARD_AGE_LIMIT: Final = Quirk(
    "dashboard_age_limit",
    23,
    "§6.1",
    "the chat handshake accepts child_age 3..18 (the original dashboard's range) instead of 3..13",
)
KEEP_EVERY_UTTERANCE: Final = Quirk(
    "keep_every_utterance",
    24,
    "§6.5",
    "every answered utterance is written as a WAV under utterances/ whatever the"
    " keep_utterance_audio setting says",
)
LEGACY_WEBSOCKET_URL: Final = Quirk(
    "legacy_websocket_url",
    18,
    "§2.5",
    "the claim's websocket_url names /ws/esp32/connect, not the chat path the server serves",
)
REFRESH_ALWAYS_REFUSED: Final = Quirk(
    "refresh_always_refused",
    6,
    "§3.2",
    "every refresh is answered 401 invalid_token (the original verified refresh tokens"
    " without their audience, so verification always failed)",
)
CLAIM_REPLAY_ACCEPTED: Final = Quirk(
    "claim_replay_accepted",
    None,
    "§2.4",
    "claim nonces are never recorded or checked: a replayed claim gets 200 and a new token pair",
)
REFRESH_REUSE_UNDETECTED: Final = Quirk(
    "refresh_reuse_undetected",
    None,
    "§3.2",
    "a refresh token that was already rotated is accepted again (200) and its session is"
    " not revoked",
)
NO_SUFFIX_RANGE: Final = Quirk(
    "no_suffix_range",
    None,
    "§5.2",
    "a suffix Range (bytes=-N) is ignored: 200 with the whole image instead of 206 (or 416"
    " for bytes=-0)",
)

UNKNOWN_TYPE_PROCESSING_ERROR: Final = Quirk(
    "unknown_type_processing_error",
    9,
    "§6.3",
    "a message of an unknown type (the original firmware's handshake, stream_ack, ...) is"
    " answered with error processing_error instead of unknown_message_type",
)

# The vocabulary in SPEC Appendix B order (by section, then defect).
QUIRKS: Final[tuple[Quirk, ...]] = (
    DOUBLE_PREFIX_ROUTES,
    LEGACY_WS_PATH_CRASH,
    CHILD_ID_AS_UUID,
    NONCE_BURNED_BEFORE_HMAC,
    DISABLED_DEVICE_500,
    CLAIM_REPLAY_ACCEPTED,
    LEGACY_WEBSOCKET_URL,
    REFRESH_ALWAYS_REFUSED,
    REFRESH_REUSE_UNDETECTED,
    LEGACY_TOKEN_MINTING,
    ETAG_STRING_COMPARE,
    NO_SUFFIX_RANGE,
    CHAT_WITHOUT_JWT,
    DASHBOARD_AGE_LIMIT,
    UNKNOWN_TYPE_PROCESSING_ERROR,
    AUDIO_END_AFTER_FINAL_ERROR,
    KEEP_EVERY_UTTERANCE,
    REPLY_IN_ONE_FRAME,
)
QUIRK_NAMES: Final[tuple[str, ...]] = tuple(q.name for q in QUIRKS)
_BY_NAME: Final = {q.name: q for q in QUIRKS}


class UnknownQuirkError(ProtocolError):
    """A quirk name that is not in the vocabulary."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown quirk {name!r}; valid quirks: {', '.join(QUIRK_NAMES)}")
        self.name = name


def quirk_named(name: str) -> Quirk:
    """The quirk called `name`; UnknownQuirkError names the valid ones."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownQuirkError(name) from None


@dataclass(frozen=True)
class Quirks:
    """The quirks one server runs with; empty (the default) is the server SPEC describes."""

    enabled: frozenset[Quirk] = frozenset()

    @classmethod
    def named(cls, names: Iterable[str]) -> Quirks:
        """The set of the quirks called `names`; UnknownQuirkError for any other name."""
        return cls(frozenset(quirk_named(name) for name in names))

    def __contains__(self, quirk: object) -> bool:
        return quirk in self.enabled

    def __iter__(self) -> Iterator[Quirk]:
        """In vocabulary order, so messages and logs are stable."""
        return (q for q in QUIRKS if q in self.enabled)

    def __len__(self) -> int:
        return len(self.enabled)

    def __bool__(self) -> bool:
        return bool(self.enabled)

    def names(self) -> tuple[str, ...]:
        return tuple(q.name for q in self)
