"""Dumps in backup-pod's /backups (the runbook's `ls /backups`), read over the real exec
API of the simulated cluster: listed newest first, rehearsed for real (the newest dumps
there are real gzip files), and refused when damaged or cut short."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kubernetes import client as kube
from kubernetes.stream import stream

from actions.backup import make_context
from actions.backup.dump_sources import PodDump, list_pod_dumps
from actions.backup.guided import RehearseDump, RestoreInPlace
from actions.base import Refused
from cockpit.config import PostgresSettings, Settings
from cockpit.demo.pg_server import PgServer
from cockpit.sim.runner import SimCluster
from tests.fixtures.postgres import create_database, drop_database
from tests.test_backup_roundtrip import runner

NS = "excel-unified"
POD = "backup-pod"


def sh(sim: SimCluster, script: str) -> str:
    api = kube.CoreV1Api(kube.ApiClient(sim.client_configuration()))
    return stream(
        api.connect_get_namespaced_pod_exec, POD, NS, command=["sh", "-c", script],
        stderr=True, stdin=False, stdout=True, tty=False,
    )  # fmt: skip


@pytest.fixture
def target(pg_server: PgServer) -> Any:
    admin = pg_server.with_params(dbname=pg_server.dbname)
    name = create_database(admin, "cockpit_pod_")
    yield name
    drop_database(admin, name)


async def test_pod_dumps_are_listed_and_rehearsed(
    make_sim: Callable[..., SimCluster], pg_server: PgServer, target: str, tmp_path: Path
) -> None:
    sim = make_sim("incident")
    config = sim.client_configuration()
    files = await list_pod_dumps(config, NS, POD, "/backups/")
    assert len(files) >= 30 and all(f.path.endswith(".sql.gz") for f in files)
    assert [f.when for f in files] == sorted((f.when for f in files), reverse=True)
    newest, oldest = files[0], files[-1]

    settings = Settings(
        postgres=PostgresSettings(dsn=pg_server.dsn(dbname="postgres"), database=target)
    )
    ctx = await make_context(settings)
    run = runner(tmp_path)
    result = await run.run(RehearseDump(PodDump(config, NS, POD, newest.path), target), ctx)
    assert result.ok, result.message
    counts = {t: (d, live) for t, d, live in result.data["counts"]}
    assert counts["public.customers"] == (199, None)  # in the dump; not in the empty live db

    # An old dump whose bytes the simulator does not hold: refused, nothing created.
    with pytest.raises(Refused, match="not simulated"):
        await run.run(RestoreInPlace(PodDump(config, NS, POD, oldest.path), target), ctx)
    await ctx.close()


async def test_a_cut_plain_dump_in_the_pod_is_never_committed(
    make_sim: Callable[..., SimCluster], pg_server: PgServer, target: str, tmp_path: Path
) -> None:
    sim = make_sim("incident")
    sh(sim, "echo 'CREATE TABLE half (x int);' > /backups/cut.sql")
    settings = Settings(
        postgres=PostgresSettings(dsn=pg_server.dsn(dbname="postgres"), database=target)
    )
    ctx = await make_context(settings)
    action = RestoreInPlace(
        PodDump(sim.client_configuration(), NS, POD, "/backups/cut.sql"), target
    )
    result = await runner(tmp_path).run(action, ctx)
    assert not result.ok
    assert "closing line" in result.message and f"{target} was not changed" in result.message
    with psycopg.connect(pg_server.dsn(dbname="postgres")) as conn:
        staged = conn.execute(
            "SELECT count(*) FROM pg_database WHERE datname = %s", (action.staging,)
        ).fetchone()
    assert staged == (0,)
    await ctx.close()
