"""`forge_token`: a variant of a captured JWT, saved in a variable for later `http` probes.

The device's own tokens come from the wire (`expect_wire ... capture:`); this step
decodes one without verifying it, changes its header and claims, re-encodes it and signs
it as written (hil.jws), so a probe can present what no good device would (SPEC §3.1:
`alg` none, another algorithm, a guessed key, a changed payload, claims out of rule).
`server_key: true` signs with the server's own HS256 key (`jwt.key` in its data folder,
SPEC §3.3; capability `server_files`), so the claim checks behind the signature check
are what refuses the token.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from hil import jws
from hil.errors import StepFailedError
from hil.scenario import fragments as f
from hil.scenario.model import Action, Step
from hil.scenario.values import VAR_NAME_PATTERN, substitute, substitute_text
from hil.steps.build import At, InvalidStepError
from hil.steps.context import StepContext
from hil.steps.kind import Doc, StepKind
from hil.targets.base import SERVER_FILES

KEY_FILE: Final = "jwt.key"  # SPEC §3.3: the server's HS256 key, 64 hex chars


@dataclass(frozen=True)
class ForgeToken(Action):
    source: str  # the token, usually "${captured}"
    save: str
    forgery: jws.Forgery  # claim values may hold ${templates}, resolved when it runs
    server_key: bool = False

    def captures(self) -> tuple[str, ...]:
        return (self.save,)

    def needs(self) -> frozenset[str]:
        return frozenset({SERVER_FILES}) if self.server_key else frozenset()


def _signature(value: Mapping[str, Any], at: At) -> str:
    alg = value.get("alg")
    none = isinstance(alg, str) and jws.is_none_alg(alg)
    signature = str(value.get("signature", jws.NONE if none else jws.SIGN))
    keyed = "key" in value or value.get("server_key") is True
    if signature == jws.SIGN and none:
        raise InvalidStepError(
            f"forge_token at {at.where('signature')}: alg {alg!r} has no signature to make;"
            " write signature: none (the default for it) or original",
            sub=("signature",),
        )
    if signature != jws.SIGN and keyed:
        raise InvalidStepError(
            f"forge_token at {at.where()}: a key is only used with signature: sign"
            f" (this one is {signature})"
        )
    return signature


def _check_key(value: Mapping[str, Any], at: At) -> None:
    """signature: sign: HS* (or the original's alg) needs one key; RS/PS/ES take none."""
    alg = value.get("alg")
    keys = [k for k in ("key", "server_key") if k in value and value[k] is not False]
    if len(keys) > 1:
        raise InvalidStepError(f"forge_token at {at.where()}: give key or server_key, not both")
    if alg is not None and alg not in jws.SIGNING_ALGS:
        raise InvalidStepError(
            f"forge_token at {at.where('alg')}: cannot sign with alg {alg!r}; signable:"
            f" {', '.join(jws.SIGNING_ALGS)} (or write signature: none / original)",
            sub=("alg",),
        )
    if alg in jws.PAIR_ALGS and keys:
        raise InvalidStepError(
            f"forge_token at {at.where(keys[0])}: {alg} is signed with a key pair made for"
            " the forgery; leave out key and server_key",
            sub=(keys[0],),
        )
    if alg not in jws.PAIR_ALGS and not keys:
        raise InvalidStepError(
            f"forge_token at {at.where()}: {alg or 'the original alg'} needs key: <the guessed"
            " HMAC key> ('' for the empty key) or server_key: true"
        )


def _check_claims(value: Mapping[str, Any], at: At) -> None:
    changed = dict(value.get("set") or {})
    both = sorted(set(changed) & set(value.get("drop") or ()))
    if both:
        raise InvalidStepError(f"forge_token at {at.where('drop')}: {both} both set and dropped")
    for name in jws.TIME_CLAIMS:
        given = changed.get(name)
        if isinstance(given, str) and "${" not in given and jws.relative_time(given, 0) is None:
            raise InvalidStepError(
                f"forge_token at {at.where('set', name)}: {name} {given!r} is not a time:"
                " write an epoch integer, now, or now ± a duration (+1h, -60s, now+5m)",
                sub=("set", name),
            )
    if "alg" in (value.get("header") or {}):
        raise InvalidStepError(
            f"forge_token at {at.where('header', 'alg')}: write the header's alg as alg:",
            sub=("header", "alg"),
        )


def build(value: Any, at: At) -> ForgeToken:
    signature = _signature(value, at)
    if signature == jws.SIGN:
        _check_key(value, at)
    _check_claims(value, at)
    key = value.get("key")
    forgery = jws.Forgery(
        alg=value.get("alg"),
        header=dict(value.get("header") or {}),
        claims=dict(value.get("set") or {}),
        drop=tuple(value.get("drop") or ()),
        signature=signature,
        key=None if key is None else str(key).encode("utf-8"),
    )
    return ForgeToken(
        source=str(value["from"]),
        save=str(value["save"]),
        forgery=forgery,
        server_key=value.get("server_key") is True,
    )


def _server_key(ctx: StepContext, label: str) -> bytes:
    path: Path = ctx.server.data_dir / KEY_FILE
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        raise StepFailedError(
            f"{label}: cannot read the server's key {path} (SPEC §3.3: 64 hex chars): {exc}",
            reason=f"no server key at {path}",
        ) from exc


async def run(ctx: StepContext, action: ForgeToken, step: Step) -> None:
    if action.server_key:
        await ctx.server.sync_files()  # a server elsewhere: a fresh copy of its files
    forgery = replace(
        action.forgery,
        claims={k: substitute(v, ctx.variables) for k, v in action.forgery.claims.items()},
        key=_server_key(ctx, step.label()) if action.server_key else action.forgery.key,
    )
    source = substitute_text(action.source, ctx.variables)
    try:
        ctx.variables[action.save] = jws.forge(source, forgery, now=time.time())
    except jws.ForgeError as exc:
        raise StepFailedError(
            f"{step.label()}: cannot forge from {source[:60]!r}: {exc}",
            reason=f"forge_token: {exc}",
        ) from exc


KIND = StepKind(
    name="forge_token",
    schema=f.obj(
        {
            "from": f.STR,
            "save": {"type": "string", "pattern": f"^{VAR_NAME_PATTERN}$"},
            "alg": f.STR,
            "signature": {"enum": list(jws.SIGNATURES)},
            "key": f.STR,
            "server_key": {"type": "boolean"},
            "header": {"type": "object"},
            "set": {"type": "object"},
            "drop": {"type": "array", "items": f.STR},
        },
        required=("from", "save"),
    ),
    model=ForgeToken,
    build=build,
    run=run,
    doc=Doc(
        form="`{from, save, alg, signature: sign \\| none \\| original, key \\| server_key,"
        " header, set, drop}`",
        does="decodes a JWT (unverified), sets `alg`, header members and claims (`iat`/`exp`/"
        "`nbf` as `+1h`, `-60s`), drops claims, signs (HS* with `key` or the server's own key,"
        " RS/PS/ES with a fresh key pair) or not, and saves it in `${save}`",
    ),
)
