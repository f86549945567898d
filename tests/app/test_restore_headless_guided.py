"""`cockpit restore KEY --database DB --confirm DB --guided --rehearse`: the guided
restore's steps without a screen, against the simulated cluster, a real PostgreSQL and a
dump in moto S3, and the bookmark that refuses to mix two restores."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from kubernetes import client as kube

from actions.backup import DumpNow, make_context
from actions.backup.headless import restore_guided
from actions.backup.procedure_state import DONE, RestoreState, StateFile
from cockpit.config import BackupSettings, PostgresSettings, Settings
from cockpit.demo.pg_server import PgServer
from cockpit.sim.runner import SimCluster
from tests.app.test_guided_restore_app import live_database, orders
from tests.fixtures.s3 import MotoServer
from tests.test_backup_roundtrip import SEED, runner

__all__ = ["live_database"]  # the fixture, used by name
NS = "excel-unified"


def scaled(sim: SimCluster, name: str) -> int:
    api = kube.AppsV1Api(kube.ApiClient(sim.client_configuration()))
    return int(api.read_namespaced_deployment(name, NS).spec.replicas)


def test_guided_restore_headless(
    make_settings: Callable[..., Settings],
    make_sim: Callable[..., SimCluster],
    pg_server: PgServer,
    live_database: str,
    moto_server: MotoServer,
    s3_bucket: str,
    tmp_path: Path,
) -> None:
    live = live_database
    with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
        conn.execute(SEED)
    sim = make_sim("incident")
    settings = make_settings(
        sim,
        postgres=PostgresSettings(dsn=pg_server.dsn(dbname="postgres"), database=live),
        backups=BackupSettings(bucket=s3_bucket, endpoint_url=moto_server.url),
    )

    async def dump() -> str:
        ctx = await make_context(settings)
        action = DumpNow(live, s3_bucket)
        assert (await runner(tmp_path).run(action, ctx)).ok
        await ctx.close()
        return action.key

    key = asyncio.run(dump())
    with psycopg.connect(pg_server.dsn(dbname=live), autocommit=True) as conn:
        conn.execute("DELETE FROM orders")

    out, err = io.StringIO(), io.StringIO()
    code = restore_guided(settings, key, live, "wrong", out=out, err=err)
    assert code == 2 and "--confirm must repeat" in out.getvalue()
    assert scaled(sim, "rails") == 3  # nothing touched

    out = io.StringIO()
    code = restore_guided(settings, key, live, live, rehearse=True, out=out, err=err)
    text = out.getvalue()
    assert code == 0, text + err.getvalue()
    assert "public.orders: dump 12,000, live 0" in text  # the rehearsal's comparison
    assert f"ok: restore of {live} complete" in text
    assert orders(pg_server, live) == 12000
    assert scaled(sim, "rails") == 3 and scaled(sim, "sidekiq") == 2
    journal = [e for e in settings_journal(settings) if e.get("outcome") == "succeeded"]
    assert [e["action"] for e in journal][-4:] == [
        "restore.stop-writers", "restore.rehearse", "restore.restore", "restore.start-writers",
    ]  # fmt: skip
    assert StateFile(settings.effective_journal_path().parent).load() is None  # complete


def settings_journal(settings: Settings) -> list[dict[str, Any]]:
    from cockpit.audit import Journal

    return Journal(settings.effective_journal_path()).read()


def test_another_unfinished_restore_is_refused(
    make_settings: Callable[..., Settings], make_sim: Callable[..., SimCluster]
) -> None:
    sim = make_sim("incident")
    settings = make_settings(sim)
    state = RestoreState("other_db", "cockpit-sim", NS, {"rails": 3})
    state.mark("stop", DONE, "stopped")
    StateFile(settings.effective_journal_path().parent).save(state)
    out = io.StringIO()
    code = restore_guided(settings, "pod:/backups/x.sql.gz", "excel_unified", "excel_unified",
                          out=out, err=io.StringIO())  # fmt: skip
    assert code == 2
    assert "an unfinished restore is on record" in out.getvalue()
    assert "restore of other_db" in out.getvalue()
    assert scaled(sim, "rails") == 3
