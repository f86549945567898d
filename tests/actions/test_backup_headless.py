"""Headless: `cockpit backup dump`, `backup list`, `backup verify` and `cockpit restore KEY
--database DB --confirm DB` through cli.main, against the test PostgreSQL and a moto S3
server; refusals (wrong --confirm, read-only, damaged dump) exit 2 and are journaled."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cockpit.cli import main
from cockpit.demo.pg_server import PgServer
from tests.fixtures.postgres import create_database, drop_database
from tests.fixtures.s3 import MotoServer


@pytest.fixture
def env(
    pg_server: PgServer,
    moto_server: MotoServer,
    s3_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    admin = pg_server.with_params(dbname=pg_server.dbname)
    source = create_database(admin, "cockpit_hl_")
    target = create_database(admin, "cockpit_hl_")
    with psycopg.connect(pg_server.dsn(dbname=source), autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id serial PRIMARY KEY, v text)")
        conn.execute("INSERT INTO t (v) SELECT 'ü' || g FROM generate_series(1, 500) g")
    journal = tmp_path / "journal.jsonl"
    (tmp_path / "empty.toml").write_text("")
    monkeypatch.setenv("COCKPIT_CONFIG", str(tmp_path / "empty.toml"))
    monkeypatch.setenv("COCKPIT_POSTGRES__DSN", pg_server.dsn(dbname="postgres"))
    monkeypatch.setenv("COCKPIT_POSTGRES__DATABASE", source)
    monkeypatch.setenv("COCKPIT_BACKUPS__BUCKET", s3_bucket)
    monkeypatch.setenv("COCKPIT_BACKUPS__ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("COCKPIT_JOURNAL_PATH", str(journal))
    yield {"source": source, "target": target, "journal": journal, "server": pg_server}
    drop_database(admin, source)
    drop_database(admin, target)


def outcomes(journal: Path) -> list[tuple[str, str]]:
    lines = [json.loads(x) for x in journal.read_text().splitlines()]
    return [(e["action"], e["outcome"]) for e in lines if e.get("outcome") != "started"]


def test_dump_list_verify_restore(env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    key = "backup_20260105_020000.sql.gz"
    assert main(["backup", "dump", "--key", key]) == 0
    out = capsys.readouterr()
    assert "read back and verified" in out.out and "upload" in out.err
    assert main(["backup", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith(key) and len(listed[0].split("\t")[3]) == 64  # sha256

    assert main(["backup", "verify", key]) == 0
    assert "verified" in capsys.readouterr().out

    target = env["target"]
    assert main(["restore", key, "--database", target, "--confirm", target + "x"]) == 2
    assert "--confirm must repeat" in capsys.readouterr().out
    assert main(["restore", key, "--database", target, "--confirm", target]) == 0
    with psycopg.connect(env["server"].dsn(dbname=target)) as conn:
        assert conn.execute("SELECT count(*), max(v) FROM t").fetchone() == (500, "ü99")
    assert outcomes(env["journal"]) == [
        ("backup.dump-now", "succeeded"),
        ("backup.verify", "succeeded"),
        ("backup.restore", "refused"),
        ("backup.restore", "succeeded"),
    ]


def test_read_only_and_damaged_dumps_are_refused(
    env: Any, s3_client: Any, s3_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["backup", "dump", "--read-only"]) == 2
    assert "read-only" in capsys.readouterr().out
    s3_client.put_object(
        Bucket=s3_bucket, Key="bad.sql.gz", Body=gzip.compress(b"SELECT 1;\n" * 1000)[:-20]
    )
    target = env["target"]
    assert main(["restore", "bad.sql.gz", "--database", target, "--confirm", target]) == 2
    assert "truncated" in capsys.readouterr().out
    assert outcomes(env["journal"]) == [
        ("backup.dump-now", "refused"),
        ("backup.restore", "refused"),
    ]
