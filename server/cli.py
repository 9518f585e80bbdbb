"""``teddy-server``: run the reference server, provision it, publish firmware.

Thin by design (esptool style): each command parses arguments and calls one typed
function of the library; errors print one line naming what to fix and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from protocol.server_quirks import QUIRKS, Quirk, Quirks, UnknownQuirkError, quirk_named
from server.errors import ServerError
from server.settings import ConnectionTimeouts, Profile, ServerSettings

DEFAULT_DATA = Path("teddy-data")
HARNESS_TOKEN_ENV = "TEDDY_HARNESS_TOKEN"  # noqa: S105 (a variable's name)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="teddy-server", description="Reference server of the AI Teddy Bear protocol (SPEC.md)."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP + WebSocket server")
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    _data_arg(serve)
    serve.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        default=Profile.DEVELOPMENT.value,
        help="development auto-registers Teddy-ESP32-* devices and test children; "
        "production serves only what was provisioned (SPEC §2.7)",
    )
    serve.add_argument("--public-host", help="host name devices use to reach this server")
    serve.add_argument(
        "--keep-utterance-audio",
        action="store_true",
        help="write each utterance heard as a WAV under DATA/utterances (development profile "
        "only: by default no child audio is kept after transcription, SPEC §6.5 rule 10)",
    )
    serve.add_argument(
        "--received-audio-dir",
        type=Path,
        metavar="DIR",
        help="for a test run: write every utterance as the recogniser received it (answered or "
        "not) as DIR/<device_id>/<n>-<audio_session_id>.wav with a .json sidecar; outside "
        "--data, development profile only, off by default (SPEC §6.5 rule 10)",
    )
    serve.add_argument(
        "--harness-token",
        metavar="TOKEN",
        default=os.environ.get(HARNESS_TOKEN_ENV),
        help="serve the harness admin API (SPEC §11: reset, provision, publish, config, faults, "
        f"events, files) to callers with this bearer token, at least 16 characters (default "
        f"${HARNESS_TOKEN_ENV}); development profile only",
    )
    serve.add_argument(
        "--quirk",
        action="append",
        default=[],
        type=_quirk,
        metavar="NAME",
        dest="quirks",
        help="put back a defect of the original server (repeatable; development profile only;"
        " SPEC Appendix B): " + "; ".join(q.label() for q in QUIRKS),
    )
    _timeout_args(serve)
    _speech_args(serve)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    prov = sub.add_parser("provision", help="add devices, children and config from a YAML file")
    prov.add_argument("file", type=Path, help="provisioning YAML (devices, children, config)")
    _data_arg(prov)
    pub = sub.add_parser("publish", help="publish an ESP32 app image as the newest release")
    pub.add_argument("image", type=Path, help="the app image (.bin) built by ESP-IDF")
    _data_arg(pub)
    pub.add_argument("--mandatory", action="store_true", help="devices must install it")
    pub.add_argument("--notes", default="", help="release notes shown in the manifest")
    return parser


def _timeout_args(serve: argparse.ArgumentParser) -> None:
    """Flags of the SPEC §1.4 deadlines; their defaults are ConnectionTimeouts' own."""
    base = ConnectionTimeouts()
    serve.add_argument(
        "--header-read-timeout",
        type=_seconds,
        default=base.header_read_s,
        metavar="S",
        help="close a connection whose request head is not complete S seconds after it opened "
        "or after the previous response, with 408 if part was sent (default %(default)g)",
    )
    serve.add_argument(
        "--body-read-timeout",
        type=_seconds,
        default=base.body_read_s,
        metavar="S",
        help="answer 408 and close when a request body is not complete S seconds after its "
        "head (default %(default)g)",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=_seconds,
        default=base.idle_keep_alive_s,
        metavar="S",
        help="close a kept-alive connection that sends nothing for S seconds after a response "
        "(default %(default)g)",
    )
    serve.add_argument(
        "--heartbeat-interval",
        type=_whole_seconds,
        default=ServerSettings.heartbeat_interval_s,
        metavar="S",
        help="heartbeat interval devices are told (SPEC §4); a chat WebSocket silent for 3 x S "
        "seconds is closed 4008 (SPEC §6.6; default %(default)d)",
    )


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _whole_seconds(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number of seconds")
    return int(text)


# `serve` flags of the utterance limits and speech capacity (SPEC §6.5 rule 11, §6.6): each
# sets the ServerSettings field of its name; unset keeps the setting's default.
SPEECH_FLAGS: tuple[tuple[str, type, str], ...] = (
    ("utterance_max_s", float, "seconds an utterance may stay open from audio_start"),
    ("utterance_silence_s", float, "seconds without an audio_chunk that end an utterance"),
    ("speech_memory_mb", int, "decoder memory budget; ~120 MB per decoder pair"),
    ("speech_wait_s", float, "seconds an utterance waits for a decoder before busy"),
    ("speech_queue", int, "devices that may wait for a decoder at once"),
)


def _speech_args(parser: argparse.ArgumentParser) -> None:
    for name, kind, help_text in SPEECH_FLAGS:
        flag = "--" + name.replace("_", "-")
        default = getattr(ServerSettings, name)  # the setting's own default, shown not copied
        help_text = f"{help_text} (default {default:g})"
        parser.add_argument(flag, type=kind, dest=name, metavar="N", help=help_text)


def _quirk(name: str) -> Quirk:
    try:
        return quirk_named(name)
    except UnknownQuirkError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _data_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"data directory: SQLite, JWT key, firmware (default ./{DEFAULT_DATA})",
    )


def serve(
    *,
    host: str,
    port: int,
    data: Path,
    profile: Profile,
    public_host: str | None,
    log_level: str,
    keep_utterance_audio: bool = False,
    received_audio_dir: Path | None = None,
    harness_token: str | None = None,
    quirks: Quirks | None = None,
    timeouts: ConnectionTimeouts | None = None,
    heartbeat_interval_s: int = ServerSettings.heartbeat_interval_s,
    speech: dict[str, float] | None = None,
) -> None:
    import uvicorn

    from server.app import create_app
    from server.serving import uvicorn_config

    settings = ServerSettings(
        data_dir=data,
        profile=profile,
        public_host=public_host,
        keep_utterance_audio=keep_utterance_audio,
        received_audio_dir=received_audio_dir,
        harness_token=harness_token,
        quirks=quirks or Quirks(),
        timeouts=timeouts or ConnectionTimeouts(),
        heartbeat_interval_s=heartbeat_interval_s,
        **{k: v for k, v in (speech or {}).items() if v is not None},  # type: ignore[arg-type]
    )
    app = create_app(settings)
    harness = ", harness admin API on" if harness_token else ""
    print(
        f"teddy-server: {profile.value} profile{harness}, data in {data}, "
        f"listening on http://{host}:{port}",
        flush=True,
    )
    if settings.received_audio_dir is not None:
        print(f"teddy-server: received audio kept in {settings.received_audio_dir}", flush=True)
    if settings.quirks:
        labels = ", ".join(q.label() for q in settings.quirks)
        print(f"teddy-server: LEGACY QUIRKS ON (not the SPEC server): {labels}", flush=True)
    uvicorn.Server(uvicorn_config(app, settings, host=host, port=port, log_level=log_level)).run()


def provision(*, file: Path, data: Path) -> str:
    from server.provision import apply_provisioning, load_provisioning
    from server.store import Store

    plan = load_provisioning(file)
    store = Store(data / "teddy.sqlite3")
    try:
        apply_provisioning(store, plan, now=time.time())
    finally:
        store.close()
    return (
        f"provisioned {len(plan.devices)} devices, {len(plan.children)} children, "
        f"{len(plan.config)} config values into {data}"
    )


def publish(*, image: Path, data: Path, mandatory: bool, notes: str) -> str:
    from server.releases import publish_release
    from server.store import Store

    try:
        content = image.read_bytes()
    except OSError as exc:
        raise ServerError(f"cannot read {image}: {exc.strerror}") from exc
    store = Store(data / "teddy.sqlite3")
    try:
        release = publish_release(
            store=store,
            data_dir=data,
            image=content,
            now=time.time(),
            mandatory=mandatory,
            notes=notes,
        )
    finally:
        store.close()
    return (
        f"published {release.version} for {release.chip} (secure_version "
        f"{release.secure_version}, {release.size} bytes, sha256 {release.sha256[:16]}...)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            serve(
                host=args.host,
                port=args.port,
                data=args.data,
                profile=Profile(args.profile),
                public_host=args.public_host,
                log_level=args.log_level,
                keep_utterance_audio=args.keep_utterance_audio,
                received_audio_dir=args.received_audio_dir,
                harness_token=args.harness_token or None,
                quirks=Quirks(frozenset(args.quirks)),
                timeouts=ConnectionTimeouts(
                    header_read_s=args.header_read_timeout,
                    body_read_s=args.body_read_timeout,
                    idle_keep_alive_s=args.keep_alive_timeout,
                ),
                heartbeat_interval_s=args.heartbeat_interval,
                speech={name: getattr(args, name) for name, _, _ in SPEECH_FLAGS},
            )
        elif args.command == "provision":
            print(provision(file=args.file, data=args.data))
        elif args.command == "publish":
            print(
                publish(
                    image=args.image, data=args.data, mandatory=args.mandatory, notes=args.notes
                )
            )
    except ServerError as exc:
        print(f"teddy-server: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
