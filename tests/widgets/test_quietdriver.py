"""The quiet terminal driver on a real pseudo-terminal: keys arrive, a lone Escape is
still told from a sequence by its timeout, and quitting wakes the sleeping input thread.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cockpit.app import CockpitApp
from tests.widgets.quiet_app import ESCAPE_EXIT, READY
from widgets.quietdriver import QuietLinuxDriver, WakingEvent, select_timeout

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0  # generous: a loaded CI machine; a hung input thread never answers at all


class Terminal:
    def __init__(self, master: int, proc: subprocess.Popen[bytes]) -> None:
        self.master, self.proc = master, proc
        self.seen = bytearray()

    def read_until(self, text: str, timeout: float = WAIT_S) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} never shown; the terminal got {bytes(self.seen[-400:])!r}"
            if select.select([self.master], [], [], min(left, 0.1))[0]:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:  # the program ended
                    assert text.encode() in self.seen, f"{text!r} never shown"

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def exit_code(self, timeout: float = WAIT_S) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            assert time.monotonic() < deadline, "the app did not exit"
            if select.select([self.master], [], [], 0.05)[0]:
                try:
                    os.read(self.master, 65536)  # keep its output flowing
                except OSError:
                    pass
        return self.proc.returncode


@contextmanager
def quiet_app_on_a_terminal() -> Iterator[Terminal]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 20, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.widgets.quiet_app"],
        cwd=ROOT,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    terminal = Terminal(master, proc)
    try:
        terminal.read_until(READY)
        yield terminal
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        os.close(master)


def test_a_lone_escape_arrives_once_its_timeout_passes() -> None:
    # Nothing follows the Escape: only the parser's deadline, which the sleeping
    # thread now wakes for, says it was the key and not a sequence's start.
    with quiet_app_on_a_terminal() as terminal:
        terminal.send(b"\x1b")
        assert terminal.exit_code() == ESCAPE_EXIT


def test_a_sequence_is_not_taken_for_escape() -> None:
    with quiet_app_on_a_terminal() as terminal:
        terminal.send(b"\x1b[A")  # Up, in one write: not an Escape
        time.sleep(0.5)
        assert terminal.proc.poll() is None
        terminal.send(b"q")
        assert terminal.exit_code() == 0


def test_quitting_wakes_the_input_thread() -> None:
    # The thread sleeps in select() with no timeout: the exit must wake it, or the
    # driver's join() would wait for the next key forever.
    with quiet_app_on_a_terminal() as terminal:
        time.sleep(0.3)  # idle: the input thread is asleep
        terminal.send(b"q")
        assert terminal.exit_code() == 0


def test_the_sleep_lasts_until_the_parsers_deadline() -> None:
    assert select_timeout(None, 100.0) is None
    assert select_timeout(100.25, 100.0) == pytest.approx(0.25)
    assert select_timeout(99.0, 100.0) == 0.0


def test_setting_the_exit_event_writes_to_the_pipe_until_detached() -> None:
    read_end, write_end = os.pipe()
    try:
        event = WakingEvent(write_end)
        event.set()
        assert event.is_set() and os.read(read_end, 10) == b"x"
        event.clear()
        event.detach()
        event.set()
        os.set_blocking(read_end, False)
        with pytest.raises(BlockingIOError):
            os.read(read_end, 10)
    finally:
        os.close(read_end)
        os.close(write_end)


def test_the_cockpit_runs_on_the_quiet_driver(tmp_path: Path) -> None:
    from cockpit.config import KubeSettings, Settings
    from cockpit.launch import Launch

    settings = Settings(journal_path=tmp_path / "journal.jsonl", kube=KubeSettings())
    app = CockpitApp(Launch(settings=settings, context="cockpit-sim"))
    assert app.driver_class is QuietLinuxDriver
