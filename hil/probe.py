"""Raw HTTP probes through the wire tap: what the harness itself asks the server under test.

A device under test only sends what it was built to send; a probe sends what no good
device would (a legacy path, an upgrade without a token, a forged JWT) and judges the
server's answer as the tap recorded it, with the `response` patterns of `expect_wire`
(hil.tap.pattern). Each probe carries `X-Teddy-Probe: <id>` (`PROBE_HEADER`), so its
request and response are found on the wire log by connection and exchange, and the
device-side invariants (a Bearer token on every upgrade, encoded queries, unique
nonces; hil.rules.invariants) know it is not the device speaking.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import httpx

from hil import expect as ex
from hil.errors import StepFailedError
from hil.streams import DeviceConsole, Record, Stream
from hil.tap import pattern as wp
from hil.tap.records import PROBE_HEADER, REQUEST, RESPONSE

# After the client has its answer, the tap's record of it follows within moments (the tap
# forwards first, then decodes and records).
RECORD_WAIT_S: Final = 5.0


@dataclass(frozen=True)
class ProbeRequest:
    """One request: `json` or `body` (text), never both; `query` values are encoded."""

    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    json: object = None
    body: str | None = None

    def describe(self) -> str:
        return f"{self.method} {self.path}"


async def _send(base_url: str, request: ProbeRequest, probe_id: str, within: float) -> str | None:
    """Send the request; None, or why the client got no complete answer (judged from the wire)."""
    headers = {**request.headers, PROBE_HEADER: probe_id}
    content = request.body.encode() if request.body is not None else None
    async with httpx.AsyncClient(base_url=base_url, timeout=within) as client:
        try:
            await client.request(
                request.method,
                request.path,
                params=dict(request.query) or None,
                headers=headers,
                json=request.json,
                content=content,
            )
        except httpx.HTTPError as exc:  # connection refused, reset, timeout
            return f"{type(exc).__name__}: {exc}"
    return None


def _is_probe(probe_id: str) -> wp.WirePattern:
    return wp.WirePattern(kind=REQUEST, headers={PROBE_HEADER: probe_id})


async def probe(
    wire: Stream,
    base_url: str,
    request: ProbeRequest,
    expected: wp.WirePattern,
    *,
    within: float,
    label: str,
    console: DeviceConsole,
) -> Record:
    """Send `request` through the tap at `base_url`; its response record must match."""
    probe_id = uuid.uuid4().hex[:12]
    begin = len(wire.records)
    failure = await _send(base_url, request, probe_id, within)
    sent = await ex.wait_record(
        wire, lambda r: wp.matches(_is_probe(probe_id), r.data), start=begin, within=RECORD_WAIT_S
    )
    answer = None
    if sent is not None:
        same = (sent.data.get("conn"), sent.data.get("exchange"))
        answer = await ex.wait_record(
            wire,
            lambda r: r.name == RESPONSE and (r.data.get("conn"), r.data.get("exchange")) == same,
            start=sent.index,
            within=RECORD_WAIT_S if failure is None else 0,
        )
    if answer is not None and wp.matches(expected, answer.data):
        return answer
    notes = [f"sent: {request.describe()} (probe {probe_id})"]
    if failure is not None:
        notes.append(f"the client got no answer: {failure}")
    if answer is None:
        notes.append("no response to it on the wire")
        reason = f"no answer to {request.describe()} ({label})"
    else:
        notes.append(f"got: {answer.describe()}")
        notes += [f"  {why}" for why in wp.mismatches(expected, answer.data)]
        reason = f"{request.describe()} -> {answer.data.get('status')} ({label})"
    text = ex.report(
        headline=f"{label}: the server's answer to {request.describe()} is not the expected one",
        expected=wp.describe(expected),
        stream=wire,
        start=begin,
        console=console,
        notes=notes,
    )
    raise StepFailedError(text, reason=reason)
