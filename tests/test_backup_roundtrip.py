"""Round trip, for real: seed a database on the test PostgreSQL, dump it through the
cockpit (pg_dump → gzip → multipart upload to a moto S3 server), restore it through the
cockpit into a new database, and compare pg_dump of both.  A corrupted or truncated
object is refused before anything is changed, and everything lands in the journal."""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from actions.backup import DumpNow, RestoreDump, make_context
from actions.base import Refused
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import BackupSettings, PostgresSettings, Settings
from cockpit.demo.pg_server import PgServer
from tests.fixtures.postgres import create_database, drop_database
from tests.fixtures.s3 import MotoServer

SEED = """
CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, city text);
CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id int REFERENCES customers(id),
    amount numeric(10,2),
    note text,
    created timestamptz NOT NULL DEFAULT '2026-01-01 00:00+00'
);
CREATE INDEX orders_customer_idx ON orders (customer_id, created);
CREATE SEQUENCE invoice_no START 1000 INCREMENT 7;
INSERT INTO customers (name, city)
    SELECT 'Kunde ' || g || ' — 고객 ' || g, (ARRAY['서울','München','Zürich','Łódź'])[1 + g % 4]
    FROM generate_series(1, 2000) g;
INSERT INTO orders (customer_id, amount, note)
    SELECT 1 + g % 2000, (g % 997) * 1.25, 'Bestellung №' || g || ' «엑셀»'
    FROM generate_series(1, 12000) g;
SELECT nextval('invoice_no') FROM generate_series(1, 5);
"""


def pg_dump_text(server: PgServer, database: str) -> str:
    out = subprocess.run(
        ["pg_dump", "--format=plain", f"--dbname={server.dsn(dbname=database)}"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    # The header's version lines and pg_dump 17's random \restrict keys vary between runs.
    keep = [
        line
        for line in out.splitlines()
        if not line.startswith(
            ("-- Dumped", "-- Started", "-- Completed", "\\restrict", "\\unrestrict")
        )
    ]
    return "\n".join(keep)


@pytest.fixture
def databases(pg_server: PgServer) -> Any:
    admin = pg_server.with_params(dbname=pg_server.dbname)
    made: list[str] = []

    def make() -> str:
        made.append(create_database(admin, "cockpit_bk_"))
        return made[-1]

    yield make
    for name in made:
        drop_database(admin, name)


def settings_for(server: PgServer, database: str, moto: MotoServer, bucket: str) -> Settings:
    return Settings(
        postgres=PostgresSettings(dsn=server.dsn(dbname="postgres"), database=database),
        backups=BackupSettings(bucket=bucket, endpoint_url=moto.url, part_size_mb=5),
    )


def runner(tmp_path: Path) -> ActionRunner:
    return ActionRunner(
        Journal(tmp_path / "journal.jsonl"),
        Who("test", "me", "ns"),
        read_only=False,
        dry_run=False,
        timeout=120,
    )


async def test_dump_restore_round_trip(
    pg_server: PgServer,
    databases: Any,
    moto_server: MotoServer,
    s3_bucket: str,
    s3_client: Any,
    tmp_path: Path,
) -> None:
    source = databases()
    with psycopg.connect(pg_server.dsn(dbname=source), autocommit=True) as conn:
        conn.execute(SEED)
    settings = settings_for(pg_server, source, moto_server, s3_bucket)
    ctx = await make_context(settings)
    run = runner(tmp_path)
    steps: list[tuple[float | None, str]] = []

    dump = DumpNow(source, s3_bucket, progress=lambda f, t: steps.append((f, t)))
    result = await run.run(dump, ctx)
    assert result.ok, result.message
    assert "read back and verified" in result.message
    head = s3_client.head_object(Bucket=s3_bucket, Key=dump.key)
    assert head["Metadata"]["sha256"] == result.data["sha256"]
    assert head["ContentLength"] == result.data["size"]
    assert any(f == 1.0 for f, _ in steps)  # the upload reported its way to the end

    target = databases()
    restored = await run.run(RestoreDump(dump.key, target, s3_bucket), ctx)
    assert restored.ok, restored.message
    assert pg_dump_text(pg_server, target) == pg_dump_text(pg_server, source)
    with psycopg.connect(pg_server.dsn(dbname=target)) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (12000,)
        assert conn.execute("SELECT nextval('invoice_no')").fetchone() == (1035,)
        city = conn.execute("SELECT city FROM customers WHERE id = 1").fetchone()
        assert city == ("München",)

    entries = Journal(tmp_path / "journal.jsonl").read()
    done = [e for e in entries if e.get("outcome") == "succeeded"]
    assert [e["action"] for e in done] == ["backup.dump-now", "backup.restore"]
    assert done[0]["result"]["sha256"] == result.data["sha256"]
    await ctx.close()


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
async def test_a_damaged_dump_is_refused_before_anything_changes(
    damage: str,
    pg_server: PgServer,
    databases: Any,
    moto_server: MotoServer,
    s3_bucket: str,
    s3_client: Any,
    tmp_path: Path,
) -> None:
    sql_text = b"--\n-- PostgreSQL database dump\n--\nCREATE TABLE t (x int);\n" * 2000
    sql_text += b"-- PostgreSQL database dump complete\n"
    blob = gzip.compress(sql_text)
    if damage == "truncated":
        blob = blob[: len(blob) // 2]
    else:
        middle = len(blob) // 2
        blob = (
            blob[:middle]
            + bytes(b ^ 0xFF for b in blob[middle : middle + 64])
            + blob[middle + 64 :]
        )
    s3_client.put_object(Bucket=s3_bucket, Key="backup_20260101_020000.sql.gz", Body=blob)
    target = databases()
    settings = settings_for(pg_server, target, moto_server, s3_bucket)
    ctx = await make_context(settings)
    with pytest.raises(Refused, match=damage):
        await runner(tmp_path).run(
            RestoreDump("backup_20260101_020000.sql.gz", target, s3_bucket), ctx
        )
    with psycopg.connect(pg_server.dsn(dbname=target)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (0,)  # nothing was restored
    outcomes = [e.get("outcome") for e in Journal(tmp_path / "journal.jsonl").read()]
    assert "refused" in outcomes
    await ctx.close()


async def test_restore_stops_at_the_first_error_and_says_where(
    pg_server: PgServer,
    databases: Any,
    moto_server: MotoServer,
    s3_bucket: str,
    s3_client: Any,
    tmp_path: Path,
) -> None:
    body = (
        b"--\n-- PostgreSQL database dump\n--\n"
        b"CREATE TABLE fine (x int);\nINSERT INTO fine VALUES (1);\n"
        b"INSERT INTO missing_table VALUES (2);\n"
        b"-- PostgreSQL database dump complete\n"
    )
    s3_client.put_object(
        Bucket=s3_bucket, Key="backup_20260102_020000.sql.gz", Body=gzip.compress(body)
    )
    target = databases()
    ctx = await make_context(settings_for(pg_server, target, moto_server, s3_bucket))
    result = await runner(tmp_path).run(
        RestoreDump("backup_20260102_020000.sql.gz", target, s3_bucket), ctx
    )
    assert not result.ok
    assert "<stdin>:6" in result.message and "missing_table" in result.message
    with psycopg.connect(pg_server.dsn(dbname=target)) as conn:
        found = conn.execute(sql.SQL("SELECT to_regclass('public.fine')")).fetchone()
    assert found == (None,)  # one transaction: the table before the error is gone too
    await ctx.close()


async def test_the_demo_bucket_holds_dumps_that_verify_and_restore(
    pg_server: PgServer, databases: Any, aws_env: None, tmp_path: Path
) -> None:
    from actions.backup import list_dumps
    from cockpit.sim.s3 import demo_bucket

    with demo_bucket("excel-unified-backups", "", "incident") as url:
        assert url is not None
        target = databases()
        settings = Settings(
            postgres=PostgresSettings(dsn=pg_server.dsn(dbname="postgres")),
            backups=BackupSettings(bucket="excel-unified-backups", endpoint_url=url),
        )
        ctx = await make_context(settings)
        dumps = await list_dumps(ctx)
        assert len(dumps) == 34 and all(len(d.sha256) == 64 for d in dumps[:20])
        assert [d.when for d in dumps] == sorted((d.when for d in dumps), reverse=True)
        result = await runner(tmp_path).run(
            RestoreDump(dumps[0].key, target, "excel-unified-backups"), ctx
        )
        await ctx.close()
    assert result.ok, result.message
    with psycopg.connect(pg_server.dsn(dbname=target)) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone() == (199,)
