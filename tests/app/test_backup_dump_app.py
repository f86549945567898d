"""Dump now through the real CockpitApp: U → the confirmation modal (Cancel focused) →
pg_dump → S3 (moto) → read back; the action bar shows progress, the journal the object
key, size and SHA-256; in read-only mode U does nothing and nothing is uploaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from textual.widgets import Static

from cockpit.app import CockpitApp
from cockpit.config import BackupSettings, PostgresSettings
from tests.app.conftest import read_journal
from tests.fixtures.s3 import MotoServer
from tests.pilot import cockpit_running, confirm_modal, wait_for
from widgets.actionbar import ActionBar


def keys(s3_client: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket).get("Contents") or ()]


async def test_u_dumps_now_after_confirmation(
    make_app: Callable[..., CockpitApp],
    pg_server: Any,
    moto_server: MotoServer,
    s3_bucket: str,
    s3_client: Any,
    journal_path: Path,
) -> None:
    with psycopg.connect(pg_server.dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS dump_app_t (v text)")
        conn.execute("INSERT INTO dump_app_t VALUES ('한글')")
    app = make_app(
        None,
        postgres=PostgresSettings(dsn=pg_server.dsn(), database=pg_server.dbname),
        backups=BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url),
    )
    async with cockpit_running(app, size=(160, 50)) as pilot:
        await pilot.press("U")
        screen = await confirm_modal(pilot, app)
        assert screen.focused is not None and screen.focused.id == "cancel"
        assert keys(s3_client, s3_bucket) == []  # nothing before the confirmation
        await pilot.click("#execute")
        await wait_for(pilot, lambda: keys(s3_client, s3_bucket), what="the uploaded dump")
        outcome = await wait_for(
            pilot,
            lambda: [e for e in read_journal(journal_path) if e.get("outcome") == "succeeded"],
            what="the journaled outcome",
        )
        bar = app.main.query_one(ActionBar)

        def finished() -> str:
            row = bar.row(f"backup.dump:{pg_server.dbname}")
            text = str(row.query_one(".action-text", Static).content) if row else ""
            return text if text.startswith("✔") else ""

        shown = await wait_for(pilot, finished, what="the action bar's outcome")
        assert "read back and verified" in shown
    [key] = keys(s3_client, s3_bucket)
    assert key.startswith("backup_") and key.endswith(".sql.gz")
    entry = outcome[0]
    assert entry["action"] == "backup.dump-now" and entry["result"]["key"] == key
    head = s3_client.head_object(Bucket=s3_bucket, Key=key)
    assert head["Metadata"]["sha256"] == entry["result"]["sha256"]
    assert entry["result"]["verdict"] == "verified"


async def test_read_only_offers_no_dump(
    make_app: Callable[..., CockpitApp],
    pg_server: Any,
    moto_server: MotoServer,
    s3_bucket: str,
    s3_client: Any,
) -> None:
    app = make_app(
        None,
        read_only=True,
        postgres=PostgresSettings(dsn=pg_server.dsn(), database=pg_server.dbname),
        backups=BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url),
    )
    async with cockpit_running(app, size=(160, 50)) as pilot:
        await pilot.press("U")
        await pilot.pause(0.3)
        assert app.screen is app.main
    assert keys(s3_client, s3_bucket) == []
