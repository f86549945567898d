"""The quiet terminal driver on a real pseudo-terminal: keys arrive, a lone Escape is
still told from a sequence by its timeout, and quitting wakes the sleeping input thread.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.common import PtyProcess
from cockpit.app import CockpitApp
from tests.widgets.quiet_app import ESCAPE_EXIT, READY
from widgets.quietdriver import QuietLinuxDriver, WakingEvent, select_timeout

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 10.0  # generous: a loaded CI machine; a hung input thread never answers at all


def wait_for_text(terminal: PtyProcess, text: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while text not in terminal.tail_text():
        assert terminal.alive(), f"the app ended: {terminal.tail_text()[-400:]!r}"
        assert time.monotonic() < deadline, f"{text!r} never shown: {terminal.tail_text()!r}"
        time.sleep(0.05)


def exit_code(terminal: PtyProcess, timeout: float = WAIT_S) -> int:
    try:
        return terminal.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("the app did not exit") from None


@contextmanager
def quiet_app_on_a_terminal() -> Iterator[PtyProcess]:
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "tests.widgets.quiet_app"]
    terminal = PtyProcess(argv, env, size=(80, 20), cwd=ROOT)
    try:
        wait_for_text(terminal, READY)
        yield terminal
    finally:
        terminal.stop()


def test_a_lone_escape_arrives_once_its_timeout_passes() -> None:
    # Nothing follows the Escape: only the parser's deadline, which the sleeping
    # thread now wakes for, says it was the key and not a sequence's start.
    with quiet_app_on_a_terminal() as terminal:
        terminal.send(b"\x1b")
        assert exit_code(terminal) == ESCAPE_EXIT


def test_a_sequence_is_not_taken_for_escape() -> None:
    with quiet_app_on_a_terminal() as terminal:
        terminal.send(b"\x1b[A")  # Up, in one write: not an Escape
        time.sleep(0.5)
        assert terminal.proc.poll() is None
        terminal.send(b"q")
        assert exit_code(terminal) == 0


def test_quitting_wakes_the_input_thread() -> None:
    # The thread sleeps in select() with no timeout: the exit must wake it, or the
    # driver's join() would wait for the next key forever.
    with quiet_app_on_a_terminal() as terminal:
        time.sleep(0.3)  # idle: the input thread is asleep
        terminal.send(b"q")
        assert exit_code(terminal) == 0


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
