"""disk.cleanup against the simulated cluster: the preview is exactly what the pod's
filesystem holds, execute removes exactly that (skipping files changed since), df shows
the gain, the journal lists every file, and hostile names are only ever data."""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from actions.base import Refused
from actions.disk import DiskCleanup
from actions.kube.context import KubeContext
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import DiskSettings
from cockpit.errors import SourceError
from cockpit.sim.filesystem import File
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.disk.podexec import ExecClient

NS = "excel-unified"
DAY = 86400
M = 1024**2


@pytest.fixture
def sim() -> Iterator[SimCluster]:
    cluster = SimCluster("incident", pace=Pace.fast())
    cluster.start()
    yield cluster
    cluster.stop()


def ctx_of(sim: SimCluster) -> KubeContext:
    return KubeContext(k8s.ApiClient(sim.client_configuration()), NS)


def runner(tmp_path: Path, **kw: Any) -> ActionRunner:
    kw.setdefault("read_only", False)
    kw.setdefault("dry_run", False)
    return ActionRunner(Journal(tmp_path / "journal.jsonl"), Who("sim", "me", NS), **kw)


def files_of(sim: SimCluster, pod: str) -> dict[str, File]:
    """path -> File as the simulated pod holds it now."""
    obj = sim.get_object("pods", pod)
    assert obj is not None and sim.execserver is not None
    fs = sim.call(lambda: sim.execserver.filesystems.get(obj))
    return sim.call(lambda: {p: n for p, n, _ in fs.walk("/") if isinstance(n, File)})


def running_pod(sim: SimCluster, app: str) -> str:
    """A pod of `app` whose container runs (the incident has crashed ones)."""
    return next(
        p["metadata"]["name"]
        for p in sim.list_objects("pods", NS)
        if p["metadata"].get("labels", {}).get("app") == app
        and all("running" in (c.get("state") or {}) for c in p["status"]["containerStatuses"])
    )


def sh(sim: SimCluster, pod: str, *argv: str) -> str:
    async def go() -> str:
        ex = ExecClient(sim.client_configuration(), NS)
        try:
            res = await ex.run(pod, list(argv))
        finally:
            ex.close()
        assert res.code == 0, res.err
        return res.out

    return asyncio.run(go())


def prepared(sim: SimCluster, pod: str, **settings: Any) -> DiskCleanup:
    action = DiskCleanup(pod=pod, settings=DiskSettings(**settings))
    return asyncio.run(action.prepare(ctx_of(sim)))


def days_old(f: File, now: float) -> int:
    return math.floor((now - f.mtime) / DAY)


def test_the_preview_lists_exactly_the_matching_files(sim: SimCluster) -> None:
    action = prepared(sim, "postgres-0")
    now = action.taken_at
    files = files_of(sim, "postgres-0")
    by_rule = {r.rule.key: r for r in action.preview or ()}
    large = {p for p, f in files.items() if math.ceil(f.size / M) > 100}
    logs = {
        p
        for p, f in files.items()
        if p.startswith("/var/lib/postgresql/data/log/")
        and p.endswith(".log")
        and days_old(f, now) > 7
    }
    assert logs and large - logs  # the relation segments are large but not logs
    assert {f.path for f in by_rule["large"].files} == large
    assert {f.path for f in by_rule["logs"].files} == logs
    assert by_rule["uploads"].files == () and any(
        "/app/uploads" in n for n in by_rule["uploads"].notes
    )
    for f in by_rule["logs"].files:
        assert f.size == files[f.path].size and f.mtime == pytest.approx(
            files[f.path].mtime, abs=1e-6
        )
    # Large files are to inspect: only the logs are planned for removal.
    assert {f.path for f in action.doomed()} == logs
    plan = action.plan()
    assert plan.confirm_phrase == "postgres-0" and plan.risk.label == "HIGH"
    assert any("(inspect)" in d for d in plan.details) and any(
        "(remove)" in d for d in plan.details
    )
    assert "find /var/lib/postgresql/data/log -type f -name '*.log' -mtime +7" in plan.command
    freed = sum(files[p].size for p in logs)
    assert plan.changes[0].startswith(f"remove {len(logs)} file(s) in postgres-0")
    assert [d["path"] for d in plan.as_journal()["files"]] == [f.path for f in action.doomed()]
    assert sum(d["size"] for d in plan.as_journal()["files"]) == freed


def test_execute_removes_exactly_the_previewed_files_and_skips_changed_ones(
    sim: SimCluster, tmp_path: Path
) -> None:
    action = prepared(sim, "postgres-0")
    doomed = [f.path for f in action.doomed()]
    touched, grown = doomed[0], doomed[1]
    before = files_of(sim, "postgres-0")
    # Between the preview and the confirmation, one log is touched, another written to.
    sh(sim, "postgres-0", "touch", "-d", f"@{int(before[touched].mtime) - DAY}", "--", touched)
    sh(sim, "postgres-0", "sh", "-c", f"echo late line >> {grown}")
    # A file that starts matching after the preview is not removed: it was never shown.
    late = "/var/lib/postgresql/data/log/postgresql-late.log"
    sh(sim, "postgres-0", "touch", "-d", f"@{int(action.taken_at) - 20 * DAY}", late)

    r = runner(tmp_path)
    result = asyncio.run(r.run(action, ctx_of(sim)))
    after = files_of(sim, "postgres-0")
    assert result.ok, result.message
    removed = set(result.data["removed"])
    assert removed == set(doomed) - {touched, grown}
    assert {s["path"] for s in result.data["skipped"]} == {touched, grown}
    assert not (removed & set(after)) and touched in after and grown in after and late in after
    # Large files (relation segments) are listed for inspection and never deleted.
    segments = [p for p, f in before.items() if "/base/16384/" in p and f.size > 100 * M]
    assert segments and all(p in after for p in segments)
    # df afterwards: the data volume went down by what was freed.
    gained = {g["mount"]: g for g in result.data["df"]}
    data = gained["/var/lib/postgresql/data"]
    assert data["before_pct"] == 90 and data["after_pct"] < 90
    assert data["gained_bytes"] >= result.data["freed_bytes"] > 0
    assert "90% → " in result.message
    # The journal: the intent lists every planned file, the outcome every removed one.
    entries = [json.loads(x) for x in (tmp_path / "journal.jsonl").read_text().splitlines()]
    intent, outcome = entries[0], entries[-1]
    assert intent["outcome"] == "started" and outcome["run"] == intent["run"]
    assert [f["path"] for f in intent["plan"]["files"]] == doomed
    assert set(outcome["result"]["removed"]) == removed
    assert outcome["outcome"] == "succeeded"


def test_dry_run_and_read_only_delete_nothing(sim: SimCluster, tmp_path: Path) -> None:
    action = prepared(sim, "postgres-0")
    doomed = [f.path for f in action.doomed()]
    result = asyncio.run(runner(tmp_path).run(action, ctx_of(sim), dry_run=True))
    assert result.ok and result.dry_run and result.data["would_remove"] == doomed
    with pytest.raises(Refused):
        asyncio.run(runner(tmp_path, read_only=True).run(action, ctx_of(sim)))
    after = files_of(sim, "postgres-0")
    assert all(p in after for p in doomed)


HOSTILE = (
    "/app/logs/a b.log",
    "/app/logs/it's.log",
    '/app/logs/say "hi".log',
    "/app/logs/new\nline.log",
    "/app/logs/$(touch pwned).log",
    "/app/logs/`touch pwned2`.log",
    "/app/logs/x'; rm -rf '.log",
    "/app/logs/-rf.log",
)


def test_hostile_file_names_are_data_not_commands(sim: SimCluster, tmp_path: Path) -> None:
    pod = running_pod(sim, "sidekiq")
    nine_days_ago = int(time.time()) - 9 * DAY
    for name in HOSTILE:
        sh(sim, pod, "touch", "-d", f"@{nine_days_ago}", "--", name)
    keep = "/app/logs/keep me.log"  # recent: must survive
    sh(sim, pod, "touch", "--", keep)
    action = prepared(sim, pod)
    planned = {f.path for f in action.doomed()}
    assert set(HOSTILE) <= planned and keep not in planned
    # The modal shows a newline in a name as a visible mark, never as a line break.
    assert not any("\n" in d for d in action.plan().details)
    result = asyncio.run(runner(tmp_path).run(action, ctx_of(sim)))
    assert result.ok, result.message
    after = files_of(sim, pod)
    assert set(HOSTILE) <= set(result.data["removed"])
    assert not (set(HOSTILE) & set(after)) and keep in after
    assert not any(p.endswith(("pwned", "pwned2")) for p in after)
    assert "/app/Gemfile" in after and "/app/logs" in {p.rsplit("/", 1)[0] for p in after}


def test_the_listing_is_capped_and_what_is_past_it_is_not_removed(sim: SimCluster) -> None:
    full = prepared(sim, "postgres-0")
    capped = prepared(sim, "postgres-0", preview_cap=3)
    logs_full = next(r for r in full.preview or () if r.rule.key == "logs")
    logs = next(r for r in capped.preview or () if r.rule.key == "logs")
    assert len(logs.files) == 3 and logs.more == len(logs_full.files) - 3
    assert logs.more_bytes == logs_full.bytes - logs.bytes
    assert [f.path for f in capped.doomed()] == [f.path for f in logs.files]
    assert any(f"+ {logs.more} more match" in d for d in capped.plan().details)


def test_large_files_are_removed_only_when_the_settings_say_so(sim: SimCluster) -> None:
    action = prepared(sim, "postgres-0", delete_large=True)
    large = next(r for r in action.preview or () if r.rule.key == "large")
    assert large.rule.deletes and {f.path for f in large.files} <= {f.path for f in action.doomed()}
    assert "large files included" in action.plan().blast_radius


def test_non_ascii_names_survive_frame_boundaries(sim: SimCluster, tmp_path: Path) -> None:
    """Hundreds of Korean names: the output spans several WebSocket frames, and a
    character split between two of them must still come back whole (and be removed)."""
    pod = running_pod(sim, "rails")
    obj = sim.get_object("pods", pod)
    assert obj is not None and sim.execserver is not None
    fs = sim.call(lambda: sim.execserver.filesystems.get(obj))
    old = time.time() - 12 * DAY
    # ~130 bytes a record, 90 of them in three-byte characters: 1,000 records cross
    # 32 KiB frame boundaries inside a character.
    names = [f"/app/logs/{i:04d}_{'월간보고서' * 6}.log" for i in range(1000)]
    sim.call(lambda: [fs.add_file(n, size=100 + i, mtime=old) for i, n in enumerate(names)])
    action = prepared(sim, pod, preview_cap=5000)
    planned = {f.path for f in action.doomed()}
    assert set(names) <= planned
    result = asyncio.run(runner(tmp_path).run(action, ctx_of(sim)))
    assert result.ok, result.message
    assert set(names) <= set(result.data["removed"])
    assert not set(names) & set(files_of(sim, pod))


def test_forbidden_exec_stops_the_preview_with_rbac_words(sim: SimCluster) -> None:
    sim.deny("create", "pods", subresource="exec")
    with pytest.raises(SourceError) as err:
        prepared(sim, "postgres-0")
    assert "forbidden" in err.value.message and "pods/exec" in err.value.hint
    assert DiskCleanup.required()[0].subresource == "exec"
