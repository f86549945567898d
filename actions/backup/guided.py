"""Restore steps 3 and 4 of the guided restore: rehearse a dump into a scratch database
and compare its row counts with the live one's; then restore it for real.

The real restore never runs a dump over the live database (a plain pg_dump would stop
at its first CREATE TABLE anyway).  It loads the dump into a new database in one
transaction, and only when that succeeded swaps it in under the live name: the live
database is kept, renamed `<db>_before_<stamp>`, so going back is one rename.  A dump
that fails to load changes nothing that the service uses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from actions.backup import databases
from actions.backup.context import BackupContext, LongRunning, quiet, threadsafe
from actions.backup.dump_sources import DumpSource
from actions.backup.restore import stream_sql
from actions.base import Action, Plan, Progress, Refused, Result, Risk


def stamp_now() -> str:
    return datetime.now(UTC).strftime("%Y%m%d_%H%M%S")


async def verified(ctx: BackupContext, source: DumpSource, progress: Progress) -> int:
    """The dump's size once verified; Refused (nothing changed) when it is not usable."""
    check = await source.verify(ctx, threadsafe(progress))
    if not check.usable:
        raise Refused(f"dump refused before anything was changed: {check.message}")
    return check.size


async def load_into_new(
    ctx: BackupContext,
    source: DumpSource,
    database: str,
    like: str,
    size: int,
    progress: Progress,
) -> Result:
    """CREATE DATABASE `database` and run the dump into it; dropped again if it fails."""
    psql = ctx.binary("psql")
    await asyncio.to_thread(databases.create, ctx, database, like)
    report = threadsafe(progress)

    def load() -> Result:
        with source.open(ctx) as chunks:
            return stream_sql(ctx, psql, database, chunks, size, report)

    try:
        result = await asyncio.to_thread(load)
    except BaseException:
        await asyncio.to_thread(databases.drop, ctx, database)
        raise
    if not result.ok:
        await asyncio.to_thread(databases.drop, ctx, database)
    return result


async def verify_and_load(
    ctx: BackupContext,
    source: DumpSource,
    into: str,
    like: str,
    dry_run: bool,
    progress: Progress,
    would: str,
) -> Result:
    """Verify the dump, then (unless a dry run, which says what it `would` do) load it
    into the new database `into`."""
    size = await verified(ctx, source, progress)
    if dry_run:
        return Result(True, f"dump verified; would {would}")
    return await load_into_new(ctx, source, into, like, size, progress)


def counts_words(rows: list[databases.CountRow]) -> str:
    differ = [r for r in rows if r.differs]
    total = sum(r.dump or 0 for r in rows)
    head = f"{sum(1 for r in rows if r.dump is not None)} tables, {total:,} rows in the dump"
    if not differ:
        return head + "; the live database has the same counts"
    shown = "; ".join(
        f"{r.table}: dump {'-' if r.dump is None else f'{r.dump:,}'}, "
        f"live {'-' if r.live is None else f'{r.live:,}'}"
        for r in differ[:5]
    )
    more = f" (+{len(differ) - 5} more)" if len(differ) > 5 else ""
    return f"{head}; {len(differ)} differ from live: {shown}{more}"


@dataclass
class LoadsDump(LongRunning, Action):
    """A dump loaded into a database of its own, named after `database` and `stamp`."""

    context_kind: ClassVar[str] = "backup"
    source: DumpSource
    database: str
    stamp: str = field(default_factory=stamp_now)
    progress: Progress = quiet


@dataclass
class RehearseDump(LoadsDump):
    """Step 3: the dump into a scratch database, its row counts against the live
    database's, then the scratch database dropped.  The live database is only read."""

    id: ClassVar[str] = "restore.rehearse"
    label: ClassVar[str] = "Rehearse restore"

    @property
    def scratch(self) -> str:
        return databases.derived_name(self.database, "rehearsal", self.stamp)

    def plan(self) -> Plan:
        return Plan(
            action=self.id,
            title=f"Rehearse {self.source.label} into scratch database {self.scratch}",
            changes=(
                f"creates database {self.scratch} and loads the dump into it (one transaction)",
                f"counts the rows of every table there and in {self.database} (read only)",
                f"drops {self.scratch} again; {self.database} is not changed",
            ),
            command=(
                f"createdb {self.scratch} && {self.source.command} | "
                f"psql -v ON_ERROR_STOP=1 --single-transaction {self.scratch}; "
                f"dropdb {self.scratch}"
            ),
            targets=(f"database/{self.scratch}",),
            blast_radius="none for the service: extra load on the server while it loads",
            risk=Risk.MEDIUM,
            lock_key=f"restore:{self.database}",
        )

    async def execute(self, ctx: BackupContext, dry_run: bool) -> Result:
        try:
            loaded = await verify_and_load(
                ctx, self.source, self.scratch, self.database, dry_run, self.progress,
                f"load it into {self.scratch}",
            )  # fmt: skip
            if dry_run:
                return loaded
            if not loaded.ok:
                return Result(False, f"rehearsal failed: {loaded.message}", loaded.data)
            self.progress(None, "counting rows")
            dump_counts = await asyncio.to_thread(databases.row_counts, ctx, self.scratch)
        finally:
            await asyncio.to_thread(databases.drop, ctx, self.scratch)
        live = None
        if await asyncio.to_thread(databases.exists, ctx, self.database):
            live = await asyncio.to_thread(databases.row_counts, ctx, self.database)
        rows = databases.compare(dump_counts, live)
        missing = "" if live is not None else f" ({self.database} does not exist)"
        return Result(
            True,
            f"rehearsal loaded in {loaded.message}: {counts_words(rows)}{missing}",
            {
                "scratch": self.scratch,
                "counts": [[r.table, r.dump, r.live] for r in rows],
                **loaded.data,
            },
        )


@dataclass
class RestoreInPlace(LoadsDump):
    """Step 4: the dump loaded into a new database, then swapped in under the live name."""

    id: ClassVar[str] = "restore.restore"
    label: ClassVar[str] = "Restore database"

    @property
    def staging(self) -> str:
        return databases.derived_name(self.database, "restore", self.stamp)

    @property
    def kept_as(self) -> str:
        return databases.derived_name(self.database, "before", self.stamp)

    def plan(self) -> Plan:
        db = self.database
        return Plan(
            action=self.id,
            title=f"Restore {self.source.label} into database {db}",
            changes=(
                "verifies the dump end to end first; a damaged one is refused",
                f"creates database {self.staging} and loads the dump into it (one transaction; "
                "the first error rolls it back and nothing else happens)",
                f"ends every session still on {db} and renames it to {self.kept_as} (kept)",
                f"renames {self.staging} to {db}",
            ),
            command=(
                f"createdb {self.staging} && {self.source.command} | "
                f"psql -v ON_ERROR_STOP=1 --single-transaction {self.staging} && "
                f'psql -c "ALTER DATABASE {db} RENAME TO {self.kept_as}" && '
                f'psql -c "ALTER DATABASE {self.staging} RENAME TO {db}"'
            ),
            targets=(f"database/{db}",),
            blast_radius=(
                f"database {db} is replaced by the dump's contents; whatever was written "
                f"after the dump is only in {self.kept_as}"
            ),
            risk=Risk.HIGH,
            confirm_phrase=db,
            lock_key=f"restore:{db}",
        )

    async def execute(self, ctx: BackupContext, dry_run: bool) -> Result:
        loaded = await verify_and_load(
            ctx, self.source, self.staging, self.database, dry_run, self.progress,
            f"restore it into {self.database}",
        )  # fmt: skip
        if dry_run:
            return loaded
        data: dict[str, Any] = {"source": self.source.label, **loaded.data}
        if not loaded.ok:
            return Result(False, f"{loaded.message}; {self.database} was not changed", data)
        self.progress(None, f"swapping {self.staging} in as {self.database}")
        try:
            ended = await asyncio.to_thread(
                databases.swap, ctx, self.database, self.staging, self.kept_as
            )
        except Exception as exc:
            return Result(
                False,
                f"the dump loaded into {self.staging}, but the swap failed: {exc}; "
                f"{self.database} is unchanged — rename by hand or retry",
                {**data, "staging": self.staging},
            )
        return Result(
            True,
            f"restored {self.source.label} into {self.database} ({loaded.message}); "
            f"the previous database is kept as {self.kept_as}"
            + (f"; {ended} sessions on it were ended" if ended else ""),
            {**data, "kept_as": self.kept_as, "sessions_ended": ended},
        )

    async def verify(self, ctx: BackupContext, result: Result, progress: Progress) -> Result:
        counts = await asyncio.to_thread(databases.row_counts, ctx, self.database)
        total = sum(counts.values())
        return Result(
            True,
            f"{result.message}; {self.database} now has {len(counts)} tables, {total:,} rows",
            {**result.data, "counts": counts},
        )
