"""Throwaway redis-server processes: the demo's and the tests'.

Each is a child process on a free port of 127.0.0.1, with its own directory and config
file and no persistence (`save ""`, `appendonly no`).  The machine's own Redis is never
touched.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import redis

REDIS_SERVER = os.environ.get("COCKPIT_TEST_REDIS_SERVER") or shutil.which("redis-server")
_LIVE: set[RedisServer] = set()


@atexit.register
def _stop_leftovers() -> None:
    """No orphan redis-server when a caller forgets stop() or crashes past its finally."""
    for server in list(_LIVE):
        server.stop()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server child process; `stop()` and `start()` keep the same port."""

    owned = True
    host = "127.0.0.1"

    def __init__(
        self,
        workdir: Path,
        config: Sequence[str] = (),
        password: str | None = None,
        binary: str | None = None,
    ) -> None:
        self.workdir = workdir
        self.config = tuple(config)
        self.password = password
        self.binary = binary or REDIS_SERVER or "/usr/bin/redis-server"
        self.port = 0
        self.tls_port = 0  # set by make_tls(): a second, TLS-only listener
        self.ca_file: Path | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / "redis.log"

    # -- addresses ----------------------------------------------------------------------

    def url_for(self, db: int = 0, password: str | None = None, user: str = "") -> str:
        secret = self.password if password is None else password
        auth = f"{quote(user)}:{quote(secret, safe='')}@" if secret else ""
        return f"redis://{auth}{self.host}:{self.port}/{db}"

    @property
    def url(self) -> str:
        return self.url_for()

    @property
    def tls_url(self) -> str:
        """rediss:// to the TLS listener, verifying against the test CA."""
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"rediss://{auth}{self.host}:{self.tls_port}/0?ssl_ca_certs={self.ca_file}"

    def client(self, db: int = 0) -> redis.Redis:
        """A plain synchronous client for seeding and checking (close it, or use `with`)."""
        return redis.Redis.from_url(self.url_for(db), decode_responses=True, protocol=2)

    # -- life cycle ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        keep_port = self.port != 0
        for _attempt in range(3):
            if not keep_port:
                self.port = free_port()
            self._spawn()
            _LIVE.add(self)
            if self._wait_ready(timeout):
                return
            if keep_port:
                break
        raise RuntimeError(f"redis-server did not start on {self.port}:\n{self._log_tail()}")

    def stop(self) -> None:
        _LIVE.discard(self)
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def _spawn(self) -> None:
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f"dir {self.workdir}",
            'save ""',
            "appendonly no",
            "daemonize no",
            f"logfile {self.log}",
            *self.config,
        ]
        if self.tls_port:
            lines.append(f"tls-port {self.tls_port}")
        if self.password:
            lines.append(f"requirepass {self.password}")
        conf = self.workdir / "redis.conf"
        conf.write_text("\n".join(lines) + "\n")
        self.proc = subprocess.Popen(
            [self.binary, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False  # exited: port taken or bad config (see the log)
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    reply = sock.recv(64)
                # +PONG, or -NOAUTH when a password is set: either way it serves.
                if reply.startswith((b"+", b"-NOAUTH")):
                    return True
            except OSError:
                pass
            time.sleep(0.01)
        self.stop()
        return False

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-10:])
        except OSError:
            return "(no log)"
