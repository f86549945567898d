"""BackupsPane in a small app driven by Pilot: the failed Job, the S3 problem in words,
ages against a fixed now, hostile object keys shown literally, the B hint, stale state."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import Static

from cockpit.config import BackupSettings, Settings
from cockpit.errors import SourceError
from cockpit.model import BackupObject, BackupsSnapshot, JobRow, Level, SourceFailure
from cockpit.sim.pace import Pace
from cockpit.sim.runner import SimCluster
from cockpit.sources.backups.s3 import NO_CREDENTIALS, S3Listing, name_time
from cockpit.sources.backups.source import BackupsSource, combine
from cockpit.sources.kube.client import connect
from cockpit.sources.kube.source import KubeSource
from widgets.backups import BackupsPane
from widgets.table import KeyedTable

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
RUN = datetime(2026, 1, 31, 2, 0, 1, tzinfo=UTC)
HOSTILE = ("[bold]x", "[@click=app.quit]x[/]", "esc\x1b[31mred\x07")


class PaneApp(App[None]):
    CSS = "BackupsPane { height: 1fr; border: round white; }"

    def __init__(self, read_only: bool = False) -> None:
        super().__init__()
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield BackupsPane(read_only=lambda: self.read_only, id="backups", classes="pane")


def incident_snapshot(**kw: Any) -> BackupsSnapshot:
    jobs = (
        JobRow(
            "postgres-backup-29930520",
            "u3",
            "Failed",
            RUN,
            RUN + timedelta(seconds=192),
            False,
            Level.CRIT,
        ),
        JobRow(
            "postgres-backup-manual-1",
            "u2",
            "Running",
            NOW - timedelta(minutes=2),
            None,
            True,
            Level.OK,
        ),
        JobRow(
            "postgres-backup-29929080",
            "u1",
            "Complete",
            RUN - timedelta(days=1),
            RUN - timedelta(days=1) + timedelta(seconds=150),
            False,
            Level.OK,
        ),
    )
    jobs = (jobs[1], jobs[0], jobs[2]) if kw.pop("manual_first", False) else jobs
    kube = BackupsSnapshot("postgres-backup", "0 2 * * *", False, RUN, jobs[2].finished, jobs=jobs)
    names = [f"backup_{RUN - timedelta(days=n):%Y%m%d}_020000.sql.gz" for n in (1, 2, 40)]
    objects = [BackupObject(k, 5 << 20, NOW, name_time(k)) for k in names]
    objects += [BackupObject(k, 3, NOW - timedelta(days=3)) for k in kw.pop("extra_keys", ())]
    objects.sort(key=lambda o: o.when or NOW, reverse=True)
    listing = S3Listing(tuple(objects), False, 5000) if not kw.get("s3_problem") else None
    listed_at = NOW if listing is not None else None
    return combine(kube, listing, BackupSettings(), NOW, listed_at=listed_at, **kw)


def static_text(pane: BackupsPane, selector: str) -> str:
    content = pane.query_one(selector, Static).content
    assert isinstance(content, Text)  # never a markup string
    return content.plain


def table_rows(pane: BackupsPane, selector: str) -> list[list[str]]:
    table = pane.query_one(selector, KeyedTable)
    rows = []
    for key in table.keys_in_order():
        cells = table.row_cells(key)
        assert cells is not None and all(isinstance(c, Text) for c in cells)
        rows.append([c.plain for c in cells])
    return rows


async def test_failed_job_and_ages_with_a_fixed_now() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        pane.show(incident_snapshot(), now=NOW)
        await pilot.pause()
        assert pane.has_class("level-crit") and pane.effective_level is Level.CRIT
        problems = static_text(pane, "#backups-problems")
        assert problems.splitlines()[0] == "✖ last backup Job postgres-backup-29930520 failed"
        summary = static_text(pane, "#backups-summary").splitlines()
        assert summary[0] == "cron 0 2 * * * · postgres-backup · last run 6h ago"
        assert summary[1].startswith("last success 30h ago (2026-01-30 02:02 UTC)")
        # Last night's run failed: the newest dump is the night before's.
        assert summary[2] == "S3 newest 31h ago · 3 objects 15.0Mi · 1 past the 30-day retention"
        jobs = table_rows(pane, "#backups-jobs")
        assert jobs[0] == ["…29930520", "Failed", "cron", "3m12s", "6h"]
        assert jobs[1] == ["…manual-1", "Running", "manual", "2m00s", "2m"]
        failed_cell = pane.query_one("#backups-jobs", KeyedTable).row_cells("u3")
        assert failed_cell is not None and "red" in str(failed_cell[1].style)
        objects = table_rows(pane, "#backups-objects")
        assert [row[0] for row in objects] == [
            "backup_20260130_020000.sql.gz",
            "backup_20260129_020000.sql.gz",
            "backup_20251222_020000.sql.gz",
        ]
        assert objects[0][1:] == ["5.0Mi", "31h"]
        assert pane.title_shown.plain == "Backups · postgres-backup · 3 problems"
        assert "run backup now · " in str(pane.border_subtitle)


async def test_s3_problem_is_shown_in_words_with_the_jobs_still_there() -> None:
    app = PaneApp()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        problem = SourceError(NO_CREDENTIALS, "the standard AWS credential chain found nothing")
        pane.show(incident_snapshot(s3_problem=problem), now=NOW)
        await pilot.pause()
        problems = static_text(pane, "#backups-problems")
        assert f"▲ S3: {NO_CREDENTIALS}" in problems.splitlines()
        assert "the standard AWS credential chain found nothing" in problems
        assert "S3 s3://excel-unified-backups/: not available" in static_text(
            pane, "#backups-summary"
        )
        assert len(table_rows(pane, "#backups-jobs")) == 3
        assert table_rows(pane, "#backups-objects") == []
        assert pane.level is Level.CRIT  # the failed Job, not the S3 problem, sets it


async def test_hostile_object_keys_are_shown_literally() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        pane.show(incident_snapshot(extra_keys=HOSTILE), now=NOW)
        await pilot.pause()
        keys = [row[0] for row in table_rows(pane, "#backups-objects")]
        assert "[bold]x" in keys and "[@click=app.quit]x[/]" in keys
        assert "esc␛[31mred␇" in keys  # control characters made visible, not sent
        table = pane.query_one("#backups-objects", KeyedTable)
        table.focus()
        for _ in range(6):
            await pilot.press("down")
        await pilot.click(table)
        await pilot.pause()
        assert app.is_running  # rendered, scrolled and clicked: no markup, no quit
        table.scroll_home(animate=False)
        await pilot.pause()
        lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
        drawn = "\n".join(line.text for line in lines)
        assert "[@click=app.quit]x[/]" in drawn and "[bold]x" in drawn
        assert "\x1b" not in drawn and "\x07" not in drawn


async def test_title_hides_the_b_hint_in_read_only_mode_and_stale_keeps_data() -> None:
    app = PaneApp(read_only=True)
    async with app.run_test(size=(110, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        pane.show(incident_snapshot(), now=NOW)
        await pilot.pause()
        assert "B" not in str(pane.border_subtitle)
        pane.mark_failed(SourceFailure("backups", "Kubernetes: x · S3: y", retry_in=30))
        await pilot.pause()
        assert pane.has_class("stale") and pane.effective_level is Level.CRIT
        assert len(table_rows(pane, "#backups-jobs")) == 3


async def test_ages_move_on_between_polls() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        pane.show(incident_snapshot(), now=NOW)
        pane.tick(NOW + timedelta(seconds=10))
        assert table_rows(pane, "#backups-jobs")[0][4] == "6h"
        pane.tick(NOW + timedelta(hours=2))
        await pilot.pause()
        assert table_rows(pane, "#backups-jobs")[0][4] == "8h"


async def test_real_sources_incident_cluster_without_aws_credentials(
    aws_env: None, monkeypatch: Any
) -> None:
    """The whole path: the simulated incident cluster, S3 without credentials, the pane."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    settings = Settings(backups=BackupSettings(endpoint_url="http://127.0.0.1:1"))
    with SimCluster("incident", pace=Pace.fast()) as sim:
        kube = KubeSource(connect(settings.kube, sim.client_configuration()), settings)
        kube.start()
        try:
            snap = await BackupsSource(settings, kube.backups_snapshot).snapshot()
        finally:
            await asyncio.to_thread(kube.stop)
    app = PaneApp()
    async with app.run_test(size=(140, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        pane.show(snap)
        await pilot.pause()
        problems = static_text(pane, "#backups-problems").splitlines()
        assert problems[0].startswith("✖ last backup Job postgres-backup-")
        assert f"▲ S3: {NO_CREDENTIALS}" in problems
        assert table_rows(pane, "#backups-jobs")[0][1] == "Failed"
        assert pane.has_class("level-crit")


async def test_capped_listing_and_an_old_listing_say_so() -> None:
    app = PaneApp()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        kube = BackupsSnapshot("postgres-backup", "0 2 * * *", False, RUN, RUN, jobs=())
        key = f"backup_{RUN:%Y%m%d_%H%M%S}.sql.gz"
        listing = S3Listing((BackupObject(key, 10, NOW, name_time(key)),), True, 5000)
        slow = SourceError("S3 did not answer within 6 s", "the endpoint is slow")
        snap = combine(
            kube,
            listing,
            BackupSettings(),
            NOW,
            s3_problem=slow,
            listed_at=NOW - timedelta(minutes=3),
        )
        pane.show(snap, now=NOW)
        await pilot.pause()
        s3 = static_text(pane, "#backups-summary").splitlines()[2]
        assert s3 == (
            "S3 newest 6h ago · 1+ objects 10B · listing capped at 5,000 keys · as listed 3m ago"
        )
        assert "▲ S3: S3 did not answer within 6 s" in static_text(pane, "#backups-problems")
        assert table_rows(pane, "#backups-objects")[0][0] == key
