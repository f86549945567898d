"""The Backups pane shows the newest dump's verdict (level-coloured, message as plain
text) and, while it is being read, a progress bar."""

from __future__ import annotations

from cockpit.model import CORRUPT, VERIFIED, DumpVerdict, Level, VerifyProgress
from tests.widgets.test_backups_pane import NOW, PaneApp, incident_snapshot, static_text
from widgets.backups import BackupsPane

NEWEST = "backup_20260130_020000.sql.gz"


def verdict(status: str, level: Level, message: str) -> DumpVerdict:
    return DumpVerdict(NEWEST, "etag", 5 << 20, status, level, message)


async def test_verdict_and_progress_lines() -> None:
    app = PaneApp()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        pane.show(incident_snapshot(verifying=VerifyProgress(NEWEST, 1 << 20, 4 << 20)), now=NOW)
        await pilot.pause()
        last = static_text(pane, "#backups-summary").splitlines()[-1]
        assert last == "dump verifying ████░░░░░░░░░░░░ 25% of 4.0Mi"

        good = verdict(VERIFIED, Level.OK, "5.0Mi → 20Mi SQL, gzip intact, SHA-256 matches")
        pane.show(incident_snapshot(verdict=good), now=NOW)
        await pilot.pause()
        last = static_text(pane, "#backups-summary").splitlines()[-1]
        assert last.startswith("dump ") and "verified · 5.0Mi → 20Mi SQL" in last
        assert "verifying" not in static_text(pane, "#backups-summary")

        bad = verdict(CORRUPT, Level.CRIT, "not a valid gzip stream [bold]at byte 1,024")
        pane.show(incident_snapshot(verdict=bad), now=NOW)
        await pilot.pause()
        summary = static_text(pane, "#backups-summary")
        assert "CORRUPT · not a valid gzip stream [bold]at byte 1,024" in summary
        assert "newest dump corrupt" in static_text(pane, "#backups-problems")
        assert pane.effective_level is Level.CRIT


async def test_a_verdict_on_an_older_dump_is_not_shown_for_the_newest() -> None:
    app = PaneApp()
    async with app.run_test(size=(160, 30)) as pilot:
        pane = app.query_one(BackupsPane)
        old = DumpVerdict("backup_20260129_020000.sql.gz", "e", 1, CORRUPT, Level.CRIT, "bad")
        pane.show(incident_snapshot(verdict=old), now=NOW)
        await pilot.pause()
        assert static_text(pane, "#backups-summary").splitlines()[-1].startswith("S3 ")
        assert "newest dump" not in static_text(pane, "#backups-problems")
