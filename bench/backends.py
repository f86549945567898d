"""What the backend-counting benchmarks share: the simulated cluster and throwaway
PostgreSQL and Redis servers with their request counters, and stopping a cockpit the way a
person does (Ctrl-C), so it closes its files cleanly."""

from __future__ import annotations

import contextlib
from pathlib import Path

import psycopg

from bench import common
from cockpit.demo.pg_server import start_throwaway
from cockpit.demo.redis_server import RedisServer
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster


class Backends:
    """The simulated cluster and throwaway PostgreSQL and Redis, with their counters."""

    def __init__(self, workdir: Path, scenario: str = "incident") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.sim = SimCluster(scenario, pace=Pace.demo()).start()
        self.kubeconfig = Path(self.sim.write_kubeconfig(workdir / "kubeconfig"))
        self.pg = start_throwaway()
        self.redis = RedisServer(workdir / "redis")
        (workdir / "redis").mkdir()
        self.redis.start()
        self.admin = self.redis.client()

    def counts(self) -> dict[str, float]:
        requests = dict(self.sim.server.requests)
        with psycopg.connect(self.pg.dsn(), autocommit=True) as conn:
            row = conn.execute(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database"
                " WHERE datname = 'postgres'"
            ).fetchone()
        stats = self.admin.info("commandstats")
        calls = sum(v["calls"] for v in stats.values())
        return {
            "api": float(sum(v for k, v in requests.items() if k != "proxy")),
            "watch": float(requests.get("watch", 0)),
            "pg": float(row[0] if row else 0),
            "redis": float(calls),
        }

    def env(self, home: Path) -> dict[str, str]:
        env = common.cockpit_env(home, self.kubeconfig)
        env["COCKPIT_POSTGRES__DSN"] = self.pg.dsn()
        env["COCKPIT_REDIS__URL"] = self.redis.url
        return env

    def close(self) -> None:
        self.admin.close()
        self.redis.stop()
        self.pg.destroy()
        self.sim.stop()


def interrupt(proc: common.PtyProcess) -> None:
    with contextlib.suppress(OSError):
        proc.send(b"\x03")
    with contextlib.suppress(Exception):
        proc.proc.wait(10)
    proc.stop()
