"""The demo's throwaway Redis and PostgreSQL: started, staged and removed by the demo.

`DemoServers.start()` picks free ports of 127.0.0.1 at once (so the settings can name
them before the servers exist) and starts and stages both servers in a background
thread, so the first screen is not delayed; the panes see "connection refused" for the
second or two that takes, then the incident.  `close()` (also atexit) stops both and
removes their directories: no process survives the demo.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from cockpit.config import Settings
from cockpit.demo.pg_server import ThrowawayServer, find_bindir, free_port
from cockpit.demo.redis_server import REDIS_SERVER, RedisServer
from cockpit.demo.staging import (
    DEMO_DATABASE,
    Staged,
    mark_demo_server,
    stage_postgres,
    stage_redis,
    unmark_demo_server,
)

DEMO_IDLE_MINUTES = 0.5  # the runbook's 10 minutes would keep the demo's candidates away
HOW_TO_GET_IT = "full demo: install redis-server and postgresql (initdb, pg_ctl)"


def binaries_available() -> bool:
    """Both servers can be started here: redis-server and PostgreSQL's initdb/pg_ctl."""
    return bool(REDIS_SERVER) and find_bindir() is not None


@dataclass
class DemoServers:
    redis_port: int
    pg_port: int
    redis: RedisServer | None = None
    pg: ThrowawayServer | None = None
    staged: Staged = field(default_factory=Staged)
    ready: threading.Event = field(default_factory=threading.Event)
    error: str | None = None  # why starting or staging failed, in words
    seconds: float | None = None  # how long starting and staging took
    _redis_dir: Path | None = None
    _thread: threading.Thread | None = None
    _closed: bool = False

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def pg_dsn(self) -> str:
        return (
            f"host=127.0.0.1 port={self.pg_port} user=postgres dbname={DEMO_DATABASE}"
            " application_name=cockpit sslmode=disable"
        )

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` watching these servers, with the demo's short idle threshold."""
        postgres = settings.postgres.model_copy(
            update={"dsn": self.pg_dsn, "idle_minutes": DEMO_IDLE_MINUTES}
        )
        redis = settings.redis.model_copy(update={"url": self.redis_url})
        return settings.model_copy(update={"postgres": postgres, "redis": redis})

    @classmethod
    def start(cls, *, background: bool = True) -> DemoServers:
        servers = cls(redis_port=free_port(), pg_port=free_port())
        atexit.register(servers.close)  # a crash past the caller's finally
        if background:
            servers._thread = threading.Thread(
                target=servers._start_and_stage, name="demo-servers", daemon=True
            )
            servers._thread.start()
        else:
            servers._start_and_stage()
        return servers

    def wait(self, timeout: float = 60.0) -> bool:
        """True when both servers run with the incidents staged."""
        return self.ready.wait(timeout) and self.error is None

    def _start_and_stage(self) -> None:
        began = time.monotonic()
        try:
            self._redis_dir = Path(tempfile.mkdtemp(prefix="cockpit-demo-redis-"))
            self.redis = RedisServer(self._redis_dir)
            self.redis.port = self.redis_port  # keep the port the settings name
            mark_demo_server(self.redis)
            self.redis.start()
            self.staged.redis_pct = stage_redis(self.redis)
            self.staged.start_redis_writer(self.redis)
            self.pg = ThrowawayServer(port=self.pg_port, max_connections=100)
            mark_demo_server(self.pg)
            self.pg.start()
            self.staged.pg = stage_postgres(self.pg)
        except Exception as exc:  # a clear state, never a dead app: the panes say the rest
            self.error = f"demo servers: {exc}"
        finally:
            self.seconds = time.monotonic() - began
            self.ready.set()
            if self._closed:  # closed while we were starting: clean up what we made
                self.close()

    def close(self) -> None:
        """Stop and remove both servers; idempotent, safe from atexit."""
        self._closed = True
        current = threading.current_thread()
        if self._thread is not None and self._thread.is_alive() and self._thread is not current:
            self._thread.join(30)
        self.staged.stop()
        if self.redis is not None:
            with contextlib.suppress(Exception):
                self.redis.stop()
            unmark_demo_server(self.redis)
        if self.pg is not None:
            with contextlib.suppress(Exception):
                self.pg.destroy()
            unmark_demo_server(self.pg)
        if self._redis_dir is not None:
            shutil.rmtree(self._redis_dir, ignore_errors=True)
