"""SQLite storage of the reference server: devices, children, sessions, releases, config.

One file ``<data>/teddy.sqlite3`` holds everything that must survive a restart (SPEC §2.7,
§3.2, §5.1). IDs are stored under a canonical lower-case key because the device and the
server must agree on identity whatever case the device sends (SPEC §1.3); the id as first
registered is kept too, for display and for the OOB derivation.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from protocol.claim import canonical_id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    key TEXT PRIMARY KEY, device_id TEXT NOT NULL, oob_secret TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1, paired_at REAL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS children (
    key TEXT PRIMARY KEY, child_id TEXT NOT NULL, name TEXT NOT NULL, age INTEGER NOT NULL,
    language TEXT NOT NULL DEFAULT 'en', consent INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, device_key TEXT NOT NULL, child_key TEXT NOT NULL,
    created_at REAL NOT NULL, revoked_at REAL);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    jti TEXT PRIMARY KEY, session_id TEXT NOT NULL, issued_at REAL NOT NULL, used_at REAL);
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL, chip TEXT NOT NULL,
    secure_version INTEGER NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    filename TEXT NOT NULL UNIQUE, mandatory INTEGER NOT NULL, notes TEXT NOT NULL,
    published_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Device:
    key: str
    device_id: str
    oob_secret: str
    enabled: bool
    paired_at: float | None


@dataclass(frozen=True)
class Child:
    key: str
    child_id: str
    name: str
    age: int
    language: str
    consent: bool


@dataclass(frozen=True)
class Release:
    id: int
    version: str
    chip: str
    secure_version: int
    sha256: str
    size: int
    filename: str
    mandatory: bool
    notes: str
    published_at: float


class Store:
    """Thread-safe access to the server's SQLite file (one connection, one lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _one(self, sql: str, args: tuple[object, ...]) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, args).fetchone()
            return row

    # -- devices ---------------------------------------------------------------------------
    def upsert_device(
        self, *, device_id: str, oob_secret: str, enabled: bool = True, now: float
    ) -> Device:
        key = canonical_id(device_id)
        with self._tx() as c:
            c.execute(
                "INSERT INTO devices(key, device_id, oob_secret, enabled, created_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET "
                "oob_secret=excluded.oob_secret, enabled=excluded.enabled",
                (key, device_id, oob_secret.upper(), int(enabled), now),
            )
        device = self.get_device(device_id)
        assert device is not None
        return device

    def get_device(self, device_id: str) -> Device | None:
        row = self._one("SELECT * FROM devices WHERE key=?", (canonical_id(device_id),))
        if row is None:
            return None
        return Device(
            key=row["key"],
            device_id=row["device_id"],
            oob_secret=row["oob_secret"],
            enabled=bool(row["enabled"]),
            paired_at=row["paired_at"],
        )

    def mark_paired(self, device_key: str, *, now: float) -> None:
        with self._tx() as c:
            c.execute("UPDATE devices SET paired_at=? WHERE key=?", (now, device_key))

    # -- children --------------------------------------------------------------------------
    def upsert_child(
        self, *, child_id: str, name: str, age: int, language: str, consent: bool, now: float
    ) -> Child:
        key = canonical_id(child_id)
        with self._tx() as c:
            c.execute(
                "INSERT INTO children(key, child_id, name, age, language, consent, created_at) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT(key) DO UPDATE SET name=excluded.name, "
                "age=excluded.age, language=excluded.language, consent=excluded.consent",
                (key, child_id, name, age, language, int(consent), now),
            )
        child = self.get_child(child_id)
        assert child is not None
        return child

    def get_child(self, child_id: str) -> Child | None:
        row = self._one("SELECT * FROM children WHERE key=?", (canonical_id(child_id),))
        if row is None:
            return None
        return Child(
            key=row["key"],
            child_id=row["child_id"],
            name=row["name"],
            age=row["age"],
            language=row["language"],
            consent=bool(row["consent"]),
        )

    # -- sessions and refresh-token families (SPEC §3.2) -----------------------------------
    def create_session(
        self, *, session_id: str, device_key: str, child_key: str, now: float
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO sessions(session_id, device_key, child_key, created_at) "
                "VALUES (?,?,?,?)",
                (session_id, device_key, child_key, now),
            )

    def session_revoked(self, session_id: str) -> bool:
        row = self._one("SELECT revoked_at FROM sessions WHERE session_id=?", (session_id,))
        return row is None or row["revoked_at"] is not None

    def record_refresh_token(self, *, jti: str, session_id: str, now: float) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO refresh_tokens(jti, session_id, issued_at) VALUES (?,?,?)",
                (jti, session_id, now),
            )

    def use_refresh_token(self, *, jti: str, session_id: str, now: float) -> bool:
        """Mark ``jti`` used; False (and the family revoked) if it was used before or unknown."""
        with self._tx() as c:
            row = c.execute(
                "SELECT used_at FROM refresh_tokens WHERE jti=? AND session_id=?", (jti, session_id)
            ).fetchone()
            if row is not None and row["used_at"] is None:
                c.execute("UPDATE refresh_tokens SET used_at=? WHERE jti=?", (now, jti))
                return True
            c.execute(
                "UPDATE sessions SET revoked_at=? WHERE session_id=? AND revoked_at IS NULL",
                (now, session_id),
            )
            return False

    # -- firmware releases (SPEC §5.1) -----------------------------------------------------
    def add_release(self, release: Release) -> Release:
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO releases(version, chip, secure_version, sha256, size, filename, "
                "mandatory, notes, published_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    release.version,
                    release.chip,
                    release.secure_version,
                    release.sha256,
                    release.size,
                    release.filename,
                    int(release.mandatory),
                    release.notes,
                    release.published_at,
                ),
            )
            new_id = cur.lastrowid
        assert new_id is not None
        return Release(**{**release.__dict__, "id": new_id})

    def releases(self, *, chip: str | None = None) -> list[Release]:
        sql, args = "SELECT * FROM releases", tuple[str, ...]()
        if chip is not None:
            sql, args = "SELECT * FROM releases WHERE chip=?", (chip,)
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY id", args).fetchall()
        return [_release(r) for r in rows]

    def release_by_filename(self, filename: str) -> Release | None:
        row = self._one("SELECT * FROM releases WHERE filename=?", (filename,))
        return None if row is None else _release(row)

    # -- config overrides (SPEC §4.1) ------------------------------------------------------
    def config_overrides(self) -> dict[str, object]:
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM config ORDER BY key").fetchall()
        return {r["key"]: json.loads(r["value"]) for r in rows}

    def set_config(self, key: str, value: object) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO config(key, value) VALUES (?,?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, json.dumps(value)),
            )


def _release(row: sqlite3.Row) -> Release:
    return Release(
        id=row["id"],
        version=row["version"],
        chip=row["chip"],
        secure_version=row["secure_version"],
        sha256=row["sha256"],
        size=row["size"],
        filename=row["filename"],
        mandatory=bool(row["mandatory"]),
        notes=row["notes"],
        published_at=row["published_at"],
    )
