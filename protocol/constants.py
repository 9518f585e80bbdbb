"""Wire constants shared by the server, the emulator, the harness and the C core.

Owns every path, limit, close code and chip identifier that appears in SPEC.md,
so that no other module hard-codes a number the device and server must agree on.
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Final

# --- HTTP paths (SPEC §2, §3.2, §4, §5) -------------------------------------------
API_PREFIX: Final = "/api/v1"
CLAIM_PATH: Final = "/api/v1/pair/claim"
REFRESH_PATH: Final = "/api/v1/pair/token/refresh"
CONFIG_PATH: Final = "/api/v1/esp32/config"
FIRMWARE_PATH: Final = "/api/v1/esp32/firmware"
# SPEC §6.1: kept from the original S15 server so old firmware finds the endpoint.
CHAT_PATH: Final = "/api/v1/esp32/private/chat"
FIRMWARE_FILES_PREFIX: Final = "/web/firmware"

# --- Identifiers (SPEC §1.3, §2.3) ------------------------------------------------
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]+")
DEVICE_ID_MIN_LEN: Final = 8
DEVICE_ID_MAX_LEN: Final = 64
CHILD_ID_MIN_LEN: Final = 1
CHILD_ID_MAX_LEN: Final = 64
NONCE_MIN_HEX: Final = 32
NONCE_MAX_HEX: Final = 64
HMAC_HEX_LEN: Final = 64
FIRMWARE_VERSION_MAX_LEN: Final = 32
FIRMWARE_VERSION_PATTERN: Final = re.compile(r"[A-Za-z0-9._+-]+")
# SPEC §2.3 dev profile: ids with this prefix auto-register (compared lower-case).
DEV_AUTO_REGISTER_PREFIX: Final = "teddy-esp32-"

# --- Anti-replay and time (SPEC §2.4) -------------------------------------------
NONCE_WINDOW_S: Final = 300
TIMESTAMP_SKEW_S: Final = 300

# --- Children (SPEC §2.7, §6.1): COPPA range enforced at the WebSocket handshake --
MIN_CHILD_AGE: Final = 3
MAX_CHILD_AGE: Final = 13

# --- Tokens (SPEC §3.1) -----------------------------------------------------------
TOKEN_TYPE: Final = "Bearer"  # noqa: S105 - the OAuth token_type, not a secret
ACCESS_TOKEN_TTL_S: Final = 3600
REFRESH_TOKEN_TTL_S: Final = 604800
JWT_AUDIENCE: Final = "teddy-api"
JWT_ISSUER: Final = "teddy-device-system"
JWT_TYPE_ACCESS: Final = "device_access"
JWT_TYPE_REFRESH: Final = "device_refresh"

# --- HTTP limits (SPEC §1.2) ------------------------------------------------------
MAX_REQUEST_BODY_BYTES: Final = 65536

# --- WebSocket (SPEC §6) ----------------------------------------------------------
HEARTBEAT_INTERVAL_S: Final = 30
# SPEC §6.2: no message for 3 heartbeat intervals closes with IDLE_TIMEOUT.
IDLE_TIMEOUT_FACTOR: Final = 3
# Transport limit: a frame above this is closed with 1009 before it is parsed.
WS_TRANSPORT_MAX_BYTES: Final = 65536
MAX_TEXT_MESSAGE_CHARS: Final = 1000
AUDIO_SESSION_ID_MAX_LEN: Final = 64
CHUNK_ID_MAX_LEN: Final = 64


class CloseCode(IntEnum):
    """WebSocket close codes used by the chat endpoint (SPEC §6.2)."""

    NORMAL = 1000
    SERVER_SHUTDOWN = 1001
    POLICY = 1008
    TOO_BIG = 1009
    INTERNAL = 1011
    SESSION_REPLACED = 4001
    IDLE_TIMEOUT = 4008


# SPEC §6.1: reasons sent with close 1008 when a handshake is refused before accept.
HANDSHAKE_REFUSAL_REASONS: Final = (
    "missing_token",
    "invalid_token",
    "token_expired",
    "session_revoked",
    "token_mismatch",
    "age_out_of_range",
    "invalid_query",
)

# --- Audio (SPEC §7) --------------------------------------------------------------
SAMPLE_RATE: Final = 16000
CHANNELS: Final = 1
SAMPLE_WIDTH: Final = 2
FORMAT: Final = "pcm_s16le"
BYTES_PER_SECOND: Final = SAMPLE_RATE * CHANNELS * SAMPLE_WIDTH
# 4096 bytes = 2048 samples = 128 ms, the original firmware's AUDIO_CHUNK_SIZE.
UPLINK_CHUNK_BYTES: Final = 4096
UPLINK_MAX_FRAME_BYTES: Final = 16384
# SPEC §7.3: every downlink frame is strictly smaller than this many encoded bytes,
# well under the device WebSocket library's 15,360-byte receive limit.
DOWNLINK_MAX_FRAME_BYTES: Final = 8192
DOWNLINK_PCM_BYTES: Final = 4096
MIN_UTTERANCE_BYTES: Final = 3200  # 0.1 s
MAX_UTTERANCE_BYTES: Final = 960000  # 30 s

# --- Firmware images (SPEC §5.3) -------------------------------------------------
# Image chip ids as written by esptool into the extended image header.
CHIP_IDS: Final[dict[str, int]] = {
    "esp32": 0,
    "esp32s2": 2,
    "esp32c3": 5,
    "esp32s3": 9,
    "esp32c2": 12,
    "esp32c6": 13,
    "esp32h2": 16,
}
CHIP_NAMES: Final[dict[int, str]] = {chip_id: name for name, chip_id in CHIP_IDS.items()}
SECURE_VERSION_MAX: Final = 0xFFFFFFFF  # esp_app_desc_t.secure_version is a uint32_t

# --- Config and manifest caching (SPEC §4.2, §5.1) -------------------------------
CONFIG_CACHE_CONTROL: Final = "public, max-age=600, stale-while-revalidate=60"
MANIFEST_CACHE_CONTROL: Final = "public, max-age=300"

# --- Device event lines (SPEC §8) -------------------------------------------------
EVENT_PREFIX: Final = "@teddy "
