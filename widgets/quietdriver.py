"""The terminal driver, with an input thread that sleeps until there is input.

Textual's LinuxDriver reads the terminal in a thread that wakes ten times a second
(`select(0.1)`) whether or not anything was typed: to time out a lone Escape (is it the
key, or the start of a sequence?) and to notice that the app is exiting.  Each wake
takes the GIL from the event loop; at 5,000 pods that thread was 0.14-0.18 % of a core
in steady state, for nothing.

`QuietLinuxDriver` waits with no timeout while the parser holds nothing back, with the
parser's own deadline while it does (the Escape timeout), and is woken through a pipe
when the app stops reading input (quit, suspend).  Everything else is textual 8.2.8's
LinuxDriver.
"""

from __future__ import annotations

import os
import select
import selectors
import threading
from codecs import getincrementaldecoder

from textual import _time
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

READ_SIZE = 4096


def select_timeout(deadline: float | None, now: float) -> float | None:
    """How long the input thread may sleep: until the parser's deadline (a partly read
    escape sequence), or until woken when it holds nothing back (None)."""
    if deadline is None:
        return None
    return max(0.0, deadline - now)


class WakingEvent(threading.Event):
    """An Event whose `set()` also writes to a pipe, so that a thread blocked in
    `select` on that pipe notices it."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        if self._wake_fd < 0:
            return  # the driver is closed
        try:
            os.write(self._wake_fd, b"x")
        except OSError:  # the pipe is full: the thread has a wake waiting anyway
            pass

    def detach(self) -> None:
        """Write nowhere from now on (the pipe is about to be closed: its number could
        be reused by another file)."""
        self._wake_fd = -1


class QuietLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread sleeps while there is nothing to read."""

    exit_event: WakingEvent

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._wake_read, wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(wake_write, False)
        self._wake_write = wake_write
        self.exit_event = WakingEvent(wake_write)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch events (LinuxDriver's loop, without its tenth-
        of-a-second polling)."""
        # select(2), as LinuxDriver: epoll refuses some inputs (a regular file).
        selector = selectors.SelectSelector()
        fileno, wake = self.fileno, self._wake_read
        selector.register(fileno, selectors.EVENT_READ)
        selector.register(wake, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode

        def read_input(final: bool = False) -> bool:
            """Parse what the terminal sent; False when it is closed (a pipe's end)."""
            data = decode(os.read(fileno, READ_SIZE), final=final)
            if not data:
                return False
            for event in parser.feed(data):
                self.process_message(event)
            return True

        def drain_wake() -> None:
            try:
                while os.read(wake, READ_SIZE):
                    pass
            except BlockingIOError:
                pass

        try:
            open_input = True
            while not self.exit_event.is_set():
                timeout = select_timeout(parser._timeout_time, _time.get_time())
                for key, _mask in selector.select(timeout):
                    if key.fd == wake:
                        drain_wake()
                    elif open_input and not read_input():
                        open_input = False  # stdin at its end: wait for the exit only
                        selector.unregister(fileno)
                for event in parser.tick():
                    self.process_message(event)
            # What was typed just before the exit, as LinuxDriver reads it.
            if open_input:
                selector.unregister(fileno)
                ready, _, _ = select.select([fileno], [], [], 0.1)
                if ready:
                    read_input(final=True)
        finally:
            selector.close()
            drain_wake()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass

    def close(self) -> None:
        super().close()
        self.exit_event.detach()
        for fd in (self._wake_read, self._wake_write):
            try:
                os.close(fd)
            except OSError:
                pass
