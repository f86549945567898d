"""The runbook's `redis-cli FLUSHDB` ("caution!"): one database, never all of them.

The plan shows the database's key count, the server's memory and an estimate of the
database's share (MEMORY USAGE of a SCAN sample, labelled as such).  Execution opens a
client of its own on that database and sends, in one MULTI/EXEC, SELECT <db>, DBSIZE
and FLUSHDB: the database is selected on the very connection that flushes, and the
count removed is exact.  Verification reads the keyspace back: that database empty,
the others still there.  There is deliberately no code path here that empties every
database at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from actions.base import Action, Param, Plan, Progress, Result, Risk
from actions.redis.context import RedisActionContext, talking
from cockpit.model import RedisSnapshot
from cockpit.sources.redis.deep import keyspace, sample_size
from cockpit.units import size_words

SAMPLE_KEYS = 200  # keys sized for the memory estimate
ASYNC_FROM = 100_000  # keys: above this, offer FLUSHDB ASYNC first
FLUSH_TIMEOUT = 25.0  # seconds a synchronous FLUSHDB may take before the socket gives up
DAMAGE_FROM = 10  # another db that had this many keys and now has none: say so loudly
MODES = ("sync", "async")


@dataclass(frozen=True)
class DbSurvey:
    """What FLUSHDB would remove, read just before the plan is shown."""

    keys: int
    used_memory: int  # the whole server
    sampled: int  # keys sized
    sampled_bytes: int
    sample_note: str  # why there is no estimate, when there is none
    keyspace: tuple[tuple[int, int], ...]  # (db, keys) for every db with keys

    @property
    def estimate(self) -> int | None:
        if not self.sampled:
            return None
        return round(self.sampled_bytes / self.sampled * self.keys)


@dataclass(frozen=True)
class FlushDb(Action):
    id = "redis.flushdb"
    label = "FLUSHDB"
    mutating = True
    context_kind = "redis"
    snapshot: RedisSnapshot | None = None
    db: int = 0
    mode: str = ""  # sync / async; "" until prepared (chosen from the key count)
    survey: DbSurvey | None = None
    server: str = ""

    async def prepare(self, ctx: RedisActionContext) -> FlushDb:
        client = ctx.client(self.db)
        async with talking(ctx, "DBSIZE"):
            keys = int(await client.dbsize())
            memory = await client.info("memory")
            space = await keyspace(client)
        async with talking(ctx, "SCAN"):
            sampled, total, refused = await sample_size(client, SAMPLE_KEYS)
        note = f"no estimate: {refused}" if refused else ""
        survey = DbSurvey(
            keys,
            int(memory.get("used_memory", 0)),
            sampled if not refused else 0,
            total,
            note,
            tuple(sorted(space.items())),
        )
        mode = self.mode or ("async" if keys >= ASYNC_FROM else "sync")
        return replace(self, survey=survey, mode=mode, server=ctx.server)

    def params(self) -> tuple[Param, ...]:
        return (
            # The modal gives a label 24 cells: the plan explains the two modes.
            Param("mode", "sync / async", self.mode or "sync", choices=MODES),
        )

    def with_params(self, values: dict[str, str]) -> FlushDb:
        mode = values.get("mode", self.mode).strip().lower()
        if mode not in MODES:
            raise ValueError("mode must be sync or async")
        return replace(self, mode=mode)

    @property
    def keys(self) -> int | None:
        if self.survey is not None:
            return self.survey.keys
        if self.snapshot is not None:
            return dict(self.snapshot.keys).get(self.db, 0)
        return None

    def _command(self) -> str:
        return "FLUSHDB ASYNC" if self.mode == "async" else "FLUSHDB"

    def _memory_lines(self) -> tuple[str, ...]:
        s = self.survey
        if s is None:
            return ("memory: not read yet",)
        lines = [f"used_memory of the whole server (every db): {size_words(s.used_memory)}"]
        if s.estimate is not None:
            lines.append(
                f"db{self.db} ≈ {size_words(s.estimate)} — an ESTIMATE: MEMORY USAGE of "
                f"{s.sampled} sampled keys × {s.keys:,} keys"
            )
        else:
            lines.append(f"db{self.db} memory: {s.sample_note or 'no keys to sample'}")
        return tuple(lines)

    def plan(self) -> Plan:
        server = self.server or (self.snapshot.server.rsplit("/", 1)[0] if self.snapshot else "?")
        keys = self.keys
        count = f"{keys:,}" if keys is not None else "?"
        others = [
            f"db{db} ({n:,} keys)"
            for db, n in (self.survey.keyspace if self.survey else ())
            if db != self.db
        ]
        how = (
            "keys vanish at once, memory is freed in the background"
            if self.mode == "async"
            else "Redis answers no one until it is done"
        )
        warnings = []
        if keys == 0:
            warnings.append(f"db{self.db} is already empty: nothing to delete")
        if self.mode != "async" and (keys or 0) >= ASYNC_FROM:
            warnings.append(f"a synchronous FLUSHDB of {count} keys blocks Redis: prefer async")
        return Plan(
            action=self.id,
            title=f"FLUSHDB: delete all {count} keys of db{self.db} on Redis {server}",
            changes=(
                f"db{self.db}: every key deleted ({count} keys; {self._command()}: {how})",
                "other databases are not touched: " + (", ".join(others) or "there are none"),
            ),
            command=f"redis-cli -n {self.db} {self._command()}",
            targets=(f"redis/{server}/db{self.db}",),
            blast_radius=(
                f"everything kept in db{self.db} is gone for good: cached pages are rebuilt "
                f"on demand (a burst of cache misses), but Sidekiq jobs or sessions in "
                f"db{self.db} are lost"
            ),
            risk=Risk.HIGH,
            confirm_phrase=str(self.db),
            details=(f"database: db{self.db}", f"keys: {count}", *self._memory_lines()),
            lock_key=f"redis/db{self.db}",
            warnings=tuple(warnings),
        )

    async def execute(self, ctx: RedisActionContext, dry_run: bool) -> Result:
        if dry_run:
            async with talking(ctx, "DBSIZE"):
                keys = int(await ctx.client(self.db).dbsize())
            return Result(
                True,
                f"dry run: {self._command()} would delete {keys:,} keys from db{self.db} "
                "(nothing sent)",
                {"db": self.db, "keys": keys},
            )
        async with talking(ctx, "INFO"):
            before = await keyspace(ctx.client())
        client = ctx.open_client(self.db, max(FLUSH_TIMEOUT, ctx.timeout))
        try:
            async with talking(ctx, "FLUSHDB", "nothing was deleted"):
                pipe = client.pipeline(transaction=True)
                pipe.execute_command("SELECT", self.db)
                pipe.dbsize()
                pipe.execute_command(*self._command().split())
                _, deleted, _ = await pipe.execute()
        finally:
            await client.aclose()
        return Result(
            True,
            f"db{self.db}: {int(deleted):,} keys deleted ({self._command()})",
            {
                "server": ctx.server,
                "db": self.db,
                "deleted": int(deleted),
                "mode": self.mode or "sync",
                "keyspace_before": {str(k): v for k, v in before.items()},
            },
        )

    async def verify(self, ctx: RedisActionContext, result: Result, progress: Progress) -> Result:
        progress(None, f"reading db{self.db}'s size back")
        async with talking(ctx, "DBSIZE"):
            now = int(await ctx.client(self.db).dbsize())
            after = await keyspace(ctx.client())
        before = {int(k): v for k, v in result.data["keyspace_before"].items()}
        data = {**result.data, "dbsize_after": now, "keyspace_after": after}
        emptied = [
            f"db{db} ({n:,} → 0 keys)"
            for db, n in before.items()
            if db != self.db and n >= DAMAGE_FROM and after.get(db, 0) == 0
        ]
        if emptied:
            return Result(
                False, "other databases are empty now: " + ", ".join(emptied) + " — check!", data
            )
        kept = ", ".join(f"db{db} {after.get(db, 0):,}" for db in before if db != self.db)
        tail = f"; others kept: {kept}" if kept else ""
        if now == 0:
            return Result(True, f"{result.message}; db{self.db} is empty{tail}", data)
        if now < result.data["deleted"] or result.data["deleted"] == 0:
            return Result(
                True,
                f"{result.message}; db{self.db} has {now:,} keys again "
                f"(written by clients since){tail}",
                data,
            )
        return Result(False, f"db{self.db} still has {now:,} keys after FLUSHDB", data)
