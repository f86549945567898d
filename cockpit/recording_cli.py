"""`cockpit record`, `cockpit replay` and `cockpit view`: the flight recorder's commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not at run time: `cockpit run` starts its request before pydantic
    from cockpit.config import Settings

COMMANDS = ("record", "replay", "view")


def add_parsers(sub: Any, common: Callable[..., None]) -> None:
    record = sub.add_parser(
        "record",
        help="poll every source into a recording, without a screen, until SIGINT/SIGTERM",
    )
    common(record, suppress=True)
    record.add_argument(
        "--output",
        "-o",
        type=Path,
        default=None,
        metavar="FILE",
        help="the recording (default: recording.db beside the journal)",
    )
    record.add_argument(
        "--max-mb",
        type=int,
        default=None,
        metavar="N",
        help="bound on the file; the oldest data goes first (default: recorder.max_mb, 256)",
    )
    record.add_argument(
        "--feed", type=Path, default=None, metavar="SOCKET", help=argparse.SUPPRESS
    )  # the live feed for `cockpit serve`'s viewers

    replay = sub.add_parser(
        "replay", help="open the cockpit on a recording, read-only, with a time cursor"
    )
    common(replay, suppress=True)
    replay.add_argument("file", type=Path, metavar="FILE", help="a recording")
    replay.add_argument(
        "--at",
        default=None,
        metavar="TIME",
        help="the moment to open at: 03:12, 03:12:04, 2026-12-06T03:12:04Z, +5m (after the "
        "start) or -90s (before the end); default: the start",
    )
    replay.add_argument(
        "--speed", type=int, default=10, metavar="N", help="play speed, × real time (default 10)"
    )

    view = sub.add_parser("view", help=argparse.SUPPRESS)  # a `cockpit serve` session
    common(view, suppress=True)
    view.add_argument("--feed", type=Path, required=True, metavar="SOCKET")


def glue_moments(argv: Sequence[str]) -> list[str]:
    """`--at -90s` as `--at=-90s`: argparse takes a value starting with "-" for an option."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--at":
            value = next(args, None)
            out.append(arg if value is None else f"--at={value}")
        else:
            out.append(arg)
    return out


def dispatch(command: str, args: argparse.Namespace, settings: Settings) -> int:
    if command == "record":
        return cmd_record(settings, args)
    if command == "replay":
        return cmd_replay(settings, args)
    return cmd_view(settings, args)


def cmd_record(settings: Settings, args: argparse.Namespace) -> int:
    from cockpit.app import Launch
    from cockpit.config import known_secrets
    from cockpit.headless import run_headless
    from cockpit.recording.recorder import Recorder

    path = args.output or settings.effective_recording_path()
    max_mb = args.max_mb or settings.recorder.max_mb
    recorder = Recorder(
        path,
        max_bytes=max_mb * 1024 * 1024,
        secrets=known_secrets(settings),
        journal=settings.effective_journal_path(),
    )
    launch = Launch(settings, getattr(args, "context", None), getattr(args, "namespace", None))

    def ready() -> None:
        print(f"cockpit: recording to {path} (at most {max_mb} MB); Ctrl-C stops", file=sys.stderr)

    import asyncio  # here: `cockpit run` imports this module before its request

    asyncio.run(run_headless(launch, recorder, feed_socket=args.feed, ready=ready))
    if recorder.problem:
        print(f"cockpit: {recorder.problem}", file=sys.stderr)
        return 1
    print(f"cockpit: recording stopped; {path} is complete", file=sys.stderr)
    return 0


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    from cockpit.app import Launch
    from cockpit.cli import exit_status
    from cockpit.recording.moments import BadMoment, parse_moment
    from cockpit.recording.store import RecordingError, RecordingReader
    from cockpit.replay import ReplayApp, ReplayOptions

    try:
        reader = RecordingReader(args.file)
        span = reader.span()
        reader.close()
    except RecordingError as exc:
        print(f"cockpit: {exc}", file=sys.stderr)
        return 2
    if span is None:
        print(f"cockpit: {args.file} holds nothing yet", file=sys.stderr)
        return 2
    at = None
    if args.at:
        try:
            at = parse_moment(args.at, span)
        except BadMoment as exc:
            print(f"cockpit: {exc}", file=sys.stderr)
            return 2
    note = f"replay of {args.file.name}"
    app = ReplayApp(Launch(settings=settings, note=note), ReplayOptions(args.file, at, args.speed))
    app.run()
    return exit_status(app)


def cmd_view(settings: Settings, args: argparse.Namespace) -> int:
    from cockpit.app import Launch
    from cockpit.cli import exit_status
    from cockpit.viewer import FeedApp

    context, namespace = getattr(args, "context", None), getattr(args, "namespace", None)
    launch = Launch(settings, context, namespace, note="shared pollers")
    app = FeedApp(launch, args.feed)
    app.run()
    return exit_status(app)
