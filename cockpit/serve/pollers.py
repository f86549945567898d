"""The one set of pollers every browser session of `cockpit serve` watches.

The server starts one headless recorder process (``python -m cockpit.serve.pollers``):
it polls every source into the flight recorder, which publishes each change on a live
feed (a Unix socket in the server's private directory).  Each session is a viewer of
that feed, so ten browser tabs are ten readers of one socket, not ten sets of watches,
polls and log streams against the API server, PostgreSQL and Redis.  A process of its
own: the pollers' work does not slow the server's relay of the terminals.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cockpit.config import Settings


def recording_path(settings: Settings, workdir: Path) -> Path:
    """Where the shared pollers record: the configured recording, or (recording off) a
    file that goes with the server's private directory."""
    if settings.recorder.enabled:
        return settings.effective_recording_path()
    return workdir / "recording.db"


class SharedPollers:
    """The recorder process: started before the server listens, stopped after it."""

    def __init__(self, settings_file: Path, feed: Path, recording: Path) -> None:
        self.feed = feed
        self.command = [
            sys.executable, "-m", "cockpit.serve.pollers",
            "--settings", str(settings_file), "--feed", str(feed), "--output", str(recording),
        ]  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start it and wait for its feed's socket (sessions connect at once)."""
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not self.feed.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"the shared pollers exited ({shlex.join(self.command)})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the shared pollers' feed {self.feed} did not appear")
            time.sleep(0.05)

    async def supervise(self, every: float = 2.0) -> None:
        """Start the pollers again when they die (the viewers reconnect by themselves):
        a war-room screen stays up for days."""
        restarts = 0
        while True:
            await asyncio.sleep(every)
            if self.process is None or self.process.poll() is None:
                continue
            restarts += 1
            status = self.process.returncode
            print(
                f"cockpit serve: the shared pollers exited ({status}); starting them again",
                flush=True,
            )
            await asyncio.sleep(min(30.0, every * restarts))  # a crash loop stays slow
            try:
                await asyncio.to_thread(self.start)
            except RuntimeError as exc:
                print(f"cockpit serve: {exc}", flush=True)

    def stop(self, timeout: float = 15.0) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # the recorder writes what it holds and closes
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cockpit-serve-pollers")
    parser.add_argument("--settings", type=Path, required=True)
    parser.add_argument("--feed", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(argv)
    from cockpit.app import Launch
    from cockpit.headless import run_headless
    from cockpit.recording.recorder import Recorder, recorder_for
    from cockpit.serve.session import read_settings

    settings = read_settings(args.settings)
    update = {"enabled": True, "path": args.output}
    settings = settings.model_copy(update={"recorder": settings.recorder.model_copy(update=update)})
    recorder = recorder_for(settings)
    assert isinstance(recorder, Recorder)
    launch = Launch(settings, settings.kube.context, settings.kube.namespace)
    asyncio.run(run_headless(launch, recorder, feed_socket=args.feed))
    if recorder.problem:
        print(f"cockpit serve: the recorder stopped: {recorder.problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
