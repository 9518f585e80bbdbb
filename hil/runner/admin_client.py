"""A client of the harness admin API (SPEC §11) of a server under test.

Each operation is one typed method; every refusal becomes a `ServerUnderTestError` that
names the request, the status and the server's §1.2 error code and message, so a scenario
that could not be set up says why in one line.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx

from hil.errors import HilError

BASE: Final = "/api/v1/harness"
TIMEOUT_S: Final = 15.0
EVENTS_WAIT_S: Final = 1.0


class ServerUnderTestError(HilError):
    """The server under test refused or failed a harness admin request."""


@dataclass(frozen=True)
class Discovery:
    """What a server's `GET /api/v1/harness` said (SPEC §11.1)."""

    offers: frozenset[str]
    settings: frozenset[str]
    server: str


@dataclass(frozen=True)
class ServerEventRecord:
    seq: int
    t: float
    name: str
    data: dict[str, object]


def _explain(method: str, path: str, response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        said = f" {error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        said = f" {response.text[:200]!r}"
    return f"{method} {path} -> {response.status_code}{said}"


def discover(url: str, token: str | None) -> Discovery | str:
    """The server's admin API, or why there is none (a sentence for skip reasons)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        response = httpx.get(url.rstrip("/") + BASE, headers=headers, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise ServerUnderTestError(
            f"cannot reach the server under test at {url}: {exc}; is it running?"
        ) from exc
    if response.status_code == 404:
        return f"the server at {url} does not offer the harness admin API (SPEC §11)"
    if response.status_code == 401:
        if token is None:
            return (
                f"the server at {url} offers the harness admin API (SPEC §11) but no "
                "--harness-token was given"
            )
        raise ServerUnderTestError(
            f"the server at {url} refused the harness token: {_explain('GET', BASE, response)}"
        )
    if response.status_code != 200:
        raise ServerUnderTestError(
            f"harness API discovery failed: {_explain('GET', BASE, response)}"
        )
    doc = response.json()
    return Discovery(
        offers=frozenset(str(o) for o in doc.get("offers", [])),
        settings=frozenset(str(s) for s in doc.get("settings", [])),
        server=str(doc.get("server", "")),
    )


class AdminClient:
    """Async calls of SPEC §11.2-§11.5 on one server; `close` when the scenario ends."""

    def __init__(self, url: str, token: str) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/") + BASE,
            headers={"Authorization": f"Bearer {token}"},
            timeout=TIMEOUT_S,
        )

    async def _call(
        self, method: str, path: str, *, json: object = None, content: bytes | None = None
    ) -> httpx.Response:
        try:
            response = await self._client.request(method, path, json=json, content=content)
        except httpx.HTTPError as exc:
            raise ServerUnderTestError(f"{method} {BASE}{path}: {exc}") from exc
        if response.status_code >= 400:
            raise ServerUnderTestError(_explain(method, BASE + path, response))
        return response

    async def reset(self, settings: Mapping[str, object]) -> None:
        await self._call("POST", "/reset", json={"settings": dict(settings)})

    async def provision(self, document: Mapping[str, object]) -> None:
        await self._call("POST", "/provision", json=dict(document))

    async def publish(
        self,
        image: bytes,
        *,
        mandatory: bool,
        notes: str,
        allow_invalid: bool,
        manifest: Mapping[str, object],
    ) -> None:
        body = {
            "image_b64": base64.b64encode(image).decode("ascii"),
            "mandatory": mandatory,
            "notes": notes,
            "allow_invalid": allow_invalid,
            "manifest": dict(manifest),
        }
        await self._call("POST", "/releases", json=body)

    async def set_config(self, key: str, value: object) -> None:
        await self._call("PUT", f"/config/{key}", json=value)

    async def fault(self, spec: Mapping[str, object]) -> None:
        await self._call("POST", "/faults", json=dict(spec))

    async def events_after(self, seq: int) -> list[ServerEventRecord]:
        response = await self._call("GET", f"/events?after={seq}&wait={EVENTS_WAIT_S}")
        return [
            ServerEventRecord(int(e["seq"]), float(e["t"]), str(e["name"]), dict(e["data"]))
            for e in response.json().get("events", [])
        ]

    async def mirror_files(self, into: Path) -> None:
        """Make `into` a copy of the server's data files (SPEC §11.5); changed ones are fetched."""
        listed = (await self._call("GET", "/files")).json().get("files", [])
        wanted = {str(f["path"]): str(f["sha256"]) for f in listed}
        stale = await asyncio.to_thread(_prune_copy, into, wanted)
        for name in stale:
            content = (await self._call("GET", f"/files/{name}")).content
            await asyncio.to_thread(_write_inside, into, name, content)

    async def close(self) -> None:
        await self._client.aclose()


def _prune_copy(into: Path, wanted: Mapping[str, str]) -> list[str]:
    """Delete local files the server no longer has; the names to fetch (new or changed)."""
    have: dict[str, str] = {}
    for path in [p for p in into.rglob("*") if p.is_file()]:
        name = path.relative_to(into).as_posix()
        if name not in wanted:
            path.unlink()
        else:
            have[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sorted(name for name, sha in wanted.items() if have.get(name) != sha)


def _write_inside(into: Path, name: str, content: bytes) -> None:
    local = into / name
    if into.resolve() not in local.resolve().parents:
        raise ServerUnderTestError(f"the server listed a file outside its data: {name!r}")
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(content)
