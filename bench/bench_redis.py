"""Redis server time per poll: the cockpit's source against its previous poll and redis-cli.

    python -m bench.bench_redis [--interval 2] [--seconds 120] [--rounds 2] [--load-ops 100]

Starts a throwaway redis-server (cockpit/demo/redis_server.py, as the tests do), seeds
it with keys in two databases, and keeps a light load on it (GET/SET from a thread at
`--load-ops` per second) so that its counters move as on a live server.  Then each
tool polls it alone for `--seconds` at `--interval` (the cockpit's default 2 s; the
interval matters: a command that runs every 2 s finds the server's caches cold and
costs it several times what the same command costs back to back), rounds
interleaved:

- the cockpit's RedisSource as the app polls it (a calm server: INFO memory stats,
  timed for the latency, every 10 s and a PING at the other polls; server, clients,
  persistence, keyspace, errorstats and CONFIG GET every 30 s or when a counter says
  so);
- its previous poll, kept here as the baseline: INFO server, clients, memory, stats,
  persistence, keyspace and errorstats (one command each), CONFIG GET maxmemory-policy,
  then PING;
- `redis-cli --stat -i <interval>` (one INFO of every default section per interval),
  when redis-cli is installed.

Server time is what the server itself counts: INFO commandstats' usec of the commands
the tool sends (info, ping, client|id, config|get), the difference between the start
and the end of the tool's window, less the cost of the INFO commandstats that read
the start (measured just before; the load's GET/SET are not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/bench_redis.py` from anywhere
    sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bench import common  # noqa: E402
from cockpit.config import RedisSettings, Settings  # noqa: E402
from cockpit.demo.redis_server import RedisServer  # noqa: E402
from cockpit.sources.redis.cadence import READ_EVERY_S  # noqa: E402
from cockpit.sources.redis.source import SLOW_EVERY_S, RedisSource  # noqa: E402

TARGET_US = 20.0  # issue 12: at most 20 µs of server time per poll
# What the monitors send; the load's commands (get, set) and the bench's own are not.
MONITOR_COMMANDS = ("info", "ping", "client|id", "config|get")
PREVIOUS_SECTIONS = (
    "server", "clients", "memory", "stats", "persistence", "keyspace", "errorstats"
)  # fmt: skip


def commandstats(admin: redis.Redis) -> dict[str, tuple[int, int]]:
    """{command: (calls, usec)} since the server started."""
    stats = admin.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): (int(v["calls"]), int(v["usec"]))
        for name, v in stats.items()
    }


def delta(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int]]:
    out = {}
    for name, (calls, usec) in after.items():
        calls0, usec0 = before.get(name, (0, 0))
        if calls - calls0:
            out[name] = (calls - calls0, usec - usec0)
    return out


def reader_cost(admin: redis.Redis) -> int:
    """usec of one INFO commandstats (two reads back to back: the second counts the first)."""
    first = commandstats(admin)
    second = commandstats(admin)
    return second["info"][1] - first["info"][1]


class Load:
    """GET/SET at `ops` per second from a thread, until stopped."""

    def __init__(self, server: RedisServer, ops: float) -> None:
        self.server = server
        self.ops = ops
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        if self.ops <= 0:
            return
        step = 1.0 / self.ops
        with self.server.client() as client:
            n = 0
            next_at = time.monotonic()
            while not self.stop_event.is_set():
                key = f"load:{n % 1000}"
                if n % 4:
                    client.get(key)
                else:
                    client.set(key, "v" * 64, ex=300)
                n += 1
                next_at += step
                self.stop_event.wait(max(0.0, next_at - time.monotonic()))

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_event.set()
        self.thread.join(5)


# -- the tools ------------------------------------------------------------------------


class Cockpit:
    def __init__(self, url: str) -> None:
        self.source = RedisSource(Settings(redis=RedisSettings(url=url)))
        self.last: Any = None

    async def poll(self) -> None:
        self.last = await self.source.snapshot()

    async def close(self) -> None:
        await self.source.close()


class Previous:
    """The cockpit's poll before issue 12: seven INFO sections, CONFIG GET, then PING."""

    def __init__(self, url: str) -> None:
        self.client = Redis.from_url(url, decode_responses=True, protocol=2)
        self.client.set_response_callback("INFO", lambda response, **_: response)

    async def poll(self) -> None:
        pipe = self.client.pipeline(transaction=False)
        for section in PREVIOUS_SECTIONS:
            pipe.execute_command("INFO", section)
        pipe.execute_command("CONFIG", "GET", "maxmemory-policy")
        await pipe.execute()
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()


async def window(
    admin: redis.Redis,
    poll: Callable[[], Awaitable[None]] | None,
    seconds: float,
    interval: float,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """One tool alone for `seconds`: its commands' calls and usec, and its poll count."""
    cost = reader_cost(admin)
    before = commandstats(admin)
    started = time.monotonic()
    polls = 0
    if argv is not None:  # an outside tool: run it for the window, then stop it
        proc = subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            await asyncio.sleep(seconds)
        finally:
            common.stop_process(proc)  # type: ignore[arg-type]
        polls = max(1, round(seconds / interval))
    else:
        assert poll is not None
        while time.monotonic() - started < seconds:
            await poll()
            polls += 1
            next_at = started + polls * interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    grown = delta(before, commandstats(admin))
    calls, usec = grown.get("info", (0, 0))
    grown["info"] = (calls - 1, usec - cost)  # the INFO commandstats that read `before`
    ours = {k: v for k, v in grown.items() if k in MONITOR_COMMANDS and v[0] > 0}
    total = sum(u for _, u in ours.values())
    return {
        "polls": polls,
        "us_per_poll": total / polls,
        "commands_per_poll": sum(c for c, _ in ours.values()) / polls,
        "by_command": ours,
        "reader_cost": cost,
    }


def show(title: str, results: list[dict[str, Any]], verbose: bool) -> float:
    values = [r["us_per_poll"] for r in results]
    mid = statistics.median(values)
    last = results[-1]
    print(
        f"  {title:<52} {mid:6.1f} us server/poll ({min(values):.1f}-{max(values):.1f})  "
        f"{last['commands_per_poll']:4.2f} commands/poll  {last['polls']} polls/round"
    )
    if verbose:
        for name, (calls, usec) in sorted(last["by_command"].items()):
            per_call = usec / max(calls, 1)
            print(f"      {name:<12} {calls:5d} calls {usec:7d} us  {per_call:6.1f} us/call")
    return mid


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between polls")
    parser.add_argument("--seconds", type=float, default=120.0, help="each tool's window")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, tools interleaved")
    parser.add_argument("--load-ops", type=float, default=100.0, help="GET/SET per second")
    parser.add_argument("-v", "--verbose", action="store_true", help="per-command figures")
    args = parser.parse_args(argv)
    common.exit_on_sigterm()

    print(f"redis bench, {common.now_text()}\n{common.machine()}\n{common.load_text()}")
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-redis-") as tmp:
        server = RedisServer(Path(tmp))
        server.start()
        tools: dict[str, Any] = {}
        try:
            with server.client() as seed, server.client(3) as db3:
                seed.mset({f"key:{i}": "x" * 100 for i in range(5000)})
                db3.mset({f"other:{i}": "y" for i in range(100)})
            admin = server.client()
            tools = {"cockpit": Cockpit(server.url), "previous": Previous(server.url)}
            for tool in tools.values():
                await tool.poll()  # connected, and the cockpit's first (full) read done
            cli = shutil.which("redis-cli")
            cli_argv = None
            if cli:
                cli_argv = [cli, "-h", "127.0.0.1", "-p", str(server.port), "--stat"]
                cli_argv += ["-i", f"{args.interval:g}"]
            runs: dict[str, list[dict[str, Any]]] = {"cockpit": [], "previous": [], "cli": []}
            slow_reads = []
            readings = []
            with Load(server, args.load_ops):
                for _ in range(args.rounds):
                    source = tools["cockpit"].source
                    slow_before, read_before = source.slow_reads, source.readings
                    runs["cockpit"].append(
                        await window(admin, tools["cockpit"].poll, args.seconds, args.interval)
                    )
                    slow_reads.append(source.slow_reads - slow_before)
                    readings.append(source.readings - read_before)
                    runs["previous"].append(
                        await window(admin, tools["previous"].poll, args.seconds, args.interval)
                    )
                    if cli_argv is not None:
                        runs["cli"].append(
                            await window(admin, None, args.seconds, args.interval, cli_argv)
                        )
            version = admin.info("server")["redis_version"]
            admin.close()
        finally:
            for tool in tools.values():
                with contextlib.suppress(Exception):
                    await tool.close()
            server.stop()

    snap = tools["cockpit"].last
    print(
        f"Redis {version}, {snap.total_keys} keys, load {args.load_ops:g} GET/SET per s; "
        f"{args.rounds} rounds x {args.seconds:g} s per tool, a poll every {args.interval:g} s, "
        "each tool alone; server time = INFO commandstats usec (median round)"
    )
    print(
        f"  the cockpit read INFO at {readings} polls per round (every {READ_EVERY_S:g} s "
        f"while calm), its slow sections {slow_reads} times (every {SLOW_EVERY_S:g} s); "
        "the INFO commandstats reading the start cost "
        f"{runs['cockpit'][-1]['reader_cost']} us, taken off"
    )
    ours = show("cockpit (INFO every 10 s, PING between)", runs["cockpit"], args.verbose)
    old = show("cockpit's previous poll (7 INFO, CONFIG GET, PING)", runs["previous"], args.verbose)
    if runs["cli"]:
        stat = show("redis-cli --stat (INFO every interval)", runs["cli"], args.verbose)
        print(f"  ratio cockpit / redis-cli --stat: {ours / stat:.2f}")
    print(f"  ratio cockpit / its previous poll: {ours / old:.2f}")
    ok = ours <= TARGET_US
    print(f"  target cockpit <= {TARGET_US:g} us per poll: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(asyncio.run(main()))
