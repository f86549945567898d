"""`cockpit serve`: its arguments (`add_parser`) and what it does (`dispatch`)."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.argtypes import whole_number

if TYPE_CHECKING:  # not at run time: `cockpit run` starts its request before pydantic
    from cockpit.config import Settings

# Each tab is a cockpit process (a viewer of the shared pollers: about 100 MB and a
# little CPU); a wall of screens is a dozen, a tab left reconnecting in a loop is not.
DEFAULT_MAX_SESSIONS = 20


def add_parser(
    sub: Any, common: Callable[..., None] | None = None, scenarios: Sequence[str] = ("incident",)
) -> argparse.ArgumentParser:
    """Add `serve` to the subcommands; `common` adds the flags every command takes,
    `scenarios` are the demo's (the simulator's module is too heavy to import here)."""
    serve = sub.add_parser(
        "serve",
        help="serve the cockpit to browsers (read-only unless --armed)",
        description="The cockpit in a browser: each browser tab runs its own session. "
        "Every request needs the token in the URL printed at start.",
    )
    if common is not None:
        common(serve, suppress=True)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (8000; 0: any free one)")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when not http://HOST:PORT (a proxy in front)",
    )
    serve.add_argument(
        "--kubeconfig", type=Path, metavar="PATH", help="kubeconfig (default: $KUBECONFIG)"
    )
    serve.add_argument(
        "--armed",
        action="store_true",
        help="sessions may run mutating actions (default: every session is read-only)",
    )
    serve.add_argument("--war-room", action="store_true", help="open on the war-room screen")
    serve.add_argument(
        "--max-sessions",
        type=whole_number(1),
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"browser sessions open at once, each a process ({DEFAULT_MAX_SESSIONS}); "
        "more are refused",
    )
    serve.add_argument(
        "--demo", action="store_true", help="serve the built-in simulated cluster's demo"
    )
    serve.add_argument("--scenario", choices=scenarios, default="incident", help="with --demo")
    serve.add_argument("--size", type=int, default=5000, metavar="N", help="with --demo, large")
    return serve


def dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.kubeconfig is not None:
        kube = settings.kube.model_copy(update={"kubeconfig": args.kubeconfig})
        settings = settings.model_copy(update={"kube": kube})
    # The private directory: the settings file, the feed's socket (and a recording when
    # recording is off); removed with everything in it when the server stops.
    with tempfile.TemporaryDirectory(prefix="cockpit-serve-") as tmp:
        workdir = Path(tmp)
        with _target(args, settings, workdir) as (served, note):
            return _serve(args, served, note, workdir)


def _serve(args: argparse.Namespace, served: Settings, note: str, workdir: Path) -> int:
    from cockpit.serve.pollers import SharedPollers, recording_path
    from cockpit.serve.server import CockpitServer
    from cockpit.serve.session import SessionLaunch, session_command, write_settings

    settings_file = write_settings(served, workdir / "settings.json")
    pollers = SharedPollers(settings_file, workdir / "feed.sock", recording_path(served, workdir))
    launch = SessionLaunch(
        settings_file=settings_file,
        feed=pollers.feed,
        context=served.kube.context,
        read_only=not args.armed,
        war_room=args.war_room,
        note=note or "shared pollers",
    )
    read_only = launch.read_only or served.is_read_only(launch.context)
    try:
        server = CockpitServer(
            session_command(launch),
            host=args.host,
            port=args.port,
            public_url=args.public_url,
            mode="READ-ONLY" if read_only else ("DRY-RUN" if served.dry_run else "ARMED"),
            companions=[pollers.supervise],
            max_sessions=args.max_sessions,
        )
    except OSError as exc:  # the port is taken, or the address is not this host's
        where = f"{args.host}:{args.port}"
        print(f"cockpit serve: cannot listen on {where}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        pollers.start()  # before the URL is printed: the first tab has its feed
        server.serve()
    except RuntimeError as exc:  # the pollers did not start (they said why)
        print(f"cockpit serve: {exc}", file=sys.stderr)
        return 2
    finally:
        pollers.stop()
    return 0


def _target(
    args: argparse.Namespace, settings: Settings, workdir: Path
) -> AbstractContextManager[tuple[Settings, str]]:
    if args.demo:
        from cockpit.demo.environment import demo_environment

        return demo_environment(settings, args.scenario, args.size, workdir)
    return _as_is(settings)


@contextmanager
def _as_is(settings: Settings) -> Iterator[tuple[Settings, str]]:
    yield settings, ""
