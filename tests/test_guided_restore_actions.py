"""The guided restore's database steps on a real PostgreSQL, with a dump in a moto S3:
rehearse into a scratch database (row counts against live, scratch dropped), restore by
loading into a new database and swapping it in (the old one kept), and a dump that fails
to load leaves the live database as it was."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import psycopg
import pytest

from actions.backup import DumpNow, make_context
from actions.backup.databases import derived_name
from actions.backup.dump_sources import S3Dump
from actions.backup.guided import RehearseDump, RestoreInPlace
from cockpit.audit import Journal
from cockpit.demo.pg_server import PgServer
from tests.fixtures.postgres import drop_database
from tests.fixtures.s3 import MotoServer
from tests.test_backup_roundtrip import SEED, databases, runner, settings_for

__all__ = ["databases"]  # the fixture, used here by name


def exists(server: PgServer, name: str) -> bool:
    with psycopg.connect(server.dsn(dbname="postgres")) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    return row is not None


def orders(server: PgServer, database: str) -> int:
    with psycopg.connect(server.dsn(dbname=database)) as conn:
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
    return int(row[0]) if row else -1


@pytest.fixture
def seeded(pg_server: PgServer, databases: Any, moto_server: MotoServer, s3_bucket: str) -> Any:
    """A database with data, dumped to S3, then hit by data loss (orders emptied)."""

    async def make(tmp_path: Path) -> tuple[str, str, Any]:
        live = databases()
        with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
            conn.execute(SEED)
        settings = settings_for(pg_server, live, moto_server, s3_bucket)
        ctx = await make_context(settings)
        dump = DumpNow(live, s3_bucket)
        assert (await runner(tmp_path).run(dump, ctx)).ok
        with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
            conn.execute("DELETE FROM orders")  # the incident: data loss
        return live, dump.key, ctx

    return make


async def test_rehearsal_compares_counts_and_drops_its_scratch_database(
    pg_server: PgServer, seeded: Any, s3_bucket: str, tmp_path: Path
) -> None:
    live, key, ctx = await seeded(tmp_path)
    action = RehearseDump(S3Dump(s3_bucket, key), live)
    result = await runner(tmp_path).run(action, ctx)
    assert result.ok, result.message
    counts = {table: (dump, now) for table, dump, now in result.data["counts"]}
    assert counts["public.orders"] == (12000, 0)
    assert counts["public.customers"] == (2000, 2000)
    assert "1 differ from live: public.orders: dump 12,000, live 0" in result.message
    assert not exists(pg_server, action.scratch)  # dropped again
    assert orders(pg_server, live) == 0  # live only read
    await ctx.close()


async def test_restore_swaps_the_dump_in_and_keeps_the_old_database(
    pg_server: PgServer, seeded: Any, s3_bucket: str, tmp_path: Path
) -> None:
    live, key, ctx = await seeded(tmp_path)
    straggler = psycopg.connect(pg_server.dsn(dbname=live), autocommit=True)
    action = RestoreInPlace(S3Dump(s3_bucket, key), live)
    assert action.plan().confirm_phrase == live
    try:
        result = await runner(tmp_path).run(action, ctx)
        assert result.ok, result.message
        assert orders(pg_server, live) == 12000
        assert orders(pg_server, action.kept_as) == 0  # what was there, kept
        assert result.data["sessions_ended"] >= 1
        assert f"{live} now has 2 tables, 14,000 rows" in result.message
        assert not exists(pg_server, action.staging)
        with pytest.raises(psycopg.OperationalError):
            straggler.execute("SELECT 1")  # it was ended by the swap
        entry = [e for e in Journal(tmp_path / "journal.jsonl").read() if e.get("run")][-1]
        assert entry["action"] == "restore.restore" and entry["outcome"] == "succeeded"
        assert entry["result"]["kept_as"] == action.kept_as
    finally:
        straggler.close()
        drop_database(pg_server.with_params(dbname=pg_server.dbname), action.kept_as)
        await ctx.close()


async def test_a_dump_that_fails_to_load_changes_nothing(
    pg_server: PgServer, databases: Any, moto_server: MotoServer, s3_bucket: str,
    s3_client: Any, tmp_path: Path,
) -> None:  # fmt: skip
    live = databases()
    with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int); INSERT INTO orders VALUES (1), (2)")
    body = (
        b"--\n-- PostgreSQL database dump\n--\nCREATE TABLE orders (id int);\n"
        b"INSERT INTO orders VALUES (1);\nINSERT INTO nowhere VALUES (2);\n"
        b"-- PostgreSQL database dump complete\n"
    )
    s3_client.put_object(Bucket=s3_bucket, Key="bad.sql.gz", Body=gzip.compress(body))
    ctx = await make_context(settings_for(pg_server, live, moto_server, s3_bucket))
    action = RestoreInPlace(S3Dump(s3_bucket, "bad.sql.gz"), live)
    result = await runner(tmp_path).run(action, ctx)
    assert not result.ok
    assert "nowhere" in result.message and f"{live} was not changed" in result.message
    assert orders(pg_server, live) == 2
    assert not exists(pg_server, action.staging) and not exists(pg_server, action.kept_as)
    await ctx.close()


def test_derived_names_fit_postgres_identifiers() -> None:
    name = derived_name("x" * 80, "rehearsal", "20261206_031500")
    assert len(name.encode()) <= 63 and name.endswith("_rehearsal_20261206_031500")
