"""What one browser session runs: `session_command()` is the shell command textual-serve
starts per websocket, and `main()` (``python -m cockpit.serve.session``) is that command:
the cockpit on the live feed of the server's shared pollers (pollers.py), polling nothing
itself (an armed session connects to Kubernetes for its actions only).

The server resolves the settings once (config file, environment, flags, or the demo's
servers) and writes them to a private file; the pollers and every session read that
file, so all of them see the same target with the same settings, and a demo's throwaway
servers are reached exactly as the server sees them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cockpit.config import Settings


@dataclass(frozen=True)
class SessionLaunch:
    settings_file: Path
    feed: Path  # the shared pollers' socket
    context: str | None = None
    read_only: bool = True
    war_room: bool = False
    note: str = ""


def session_command(launch: SessionLaunch) -> str:
    """The command line (for a shell: textual-serve runs it with one) of a session."""
    program = [sys.executable, "-m", "cockpit.serve.session"]
    args = ["--settings", str(launch.settings_file), "--feed", str(launch.feed)]
    if launch.context:
        args += ["--context", launch.context]
    if launch.read_only:
        args.append("--read-only")
    if launch.war_room:
        args.append("--war-room")
    if launch.note:
        args += ["--note", launch.note]
    # exec: the session is the shell's process, not its child (signals reach it).
    return "exec " + shlex.join([*program, *args])


def write_settings(settings: Settings, path: Path) -> Path:
    """The resolved settings for the sessions, readable by this user only (they may hold
    a DSN with its password, as the config file they came from does)."""
    data = settings.model_dump(mode="json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(data, file)
    return path


def read_settings(path: Path) -> Settings:
    # model_validate, not Settings(...): the server already applied the environment.
    return Settings.model_validate(json.loads(path.read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cockpit-serve-session")
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--feed", type=Path, required=True)
    parser.add_argument("--context")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--war-room", action="store_true")
    parser.add_argument("--note", default="")
    args = parser.parse_args(argv)
    settings = read_settings(args.settings)
    if args.read_only:
        settings = settings.model_copy(update={"read_only": True})
    from cockpit.app import Launch
    from cockpit.viewer import FeedApp

    launch = Launch(settings=settings, context=args.context, note=args.note, war_room=args.war_room)
    app = FeedApp(launch, args.feed)  # a viewer: it neither polls nor records
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(main())
