"""Logs through the app: the full-screen log view and the live error feed (issue 3)."""

from __future__ import annotations

from pathlib import Path

from tests.pilot import cockpit_running
from widgets.errorlog import ErrorLogPane
from widgets.logview import LogScreen
from widgets.pods import PodsPane

from .conftest import wait_for
from .test_kube_actions import ready_app, select_pod


async def open_view(pilot, app, pods: PodsPane, predicate, key: str = "enter") -> LogScreen:
    await select_pod(pilot, pods, predicate)
    await pilot.press(key)
    return await wait_for(
        pilot,
        lambda: app.screen if isinstance(app.screen, LogScreen) else None,
        what="the log view",
    )


async def test_log_view_previous_search_wrap_and_save(
    make_sim, make_app, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    sim = make_sim("incident")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        view = await open_view(pilot, app, pods, lambda p: p.status == "CrashLoopBackOff")
        await wait_for(pilot, lambda: len(view.lines) > 0, what="current log lines")
        assert view.options.previous is False and view.options.tail_lines == 500

        await pilot.press("p")  # the previous container: why it crashed
        await wait_for(
            pilot,
            lambda: (
                view.options.previous
                and any("could not connect to server" in text for _, text in view.lines)
            ),
            what="the previous container's fatal error",
        )

        await pilot.press("slash")
        search = view.query_one("#logview-search")
        search.value = "could not connect"
        await pilot.press("enter")
        await wait_for(pilot, lambda: view.message.startswith("match at line"), what="search")

        await pilot.press("w", "t")
        assert view.wrap and view.timestamps

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: view.message.startswith("saved to "), what="saved")
        saved = Path(view.message.removeprefix("saved to "))
        assert saved.exists() and "could not connect to server" in saved.read_text()
        assert saved.stat().st_mode & 0o777 == 0o600  # logs can carry customer data
        await pilot.press("ctrl+s")  # twice in one second: a second file, none overwritten
        await wait_for(pilot, lambda: view.message != f"saved to {saved}", what="saved again")
        assert Path(view.message.removeprefix("saved to ")) != saved

        await pilot.press("s")  # since 5m: the stream is reopened with the new window
        assert view.options.since_seconds == 300
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, LogScreen), what="closed")


async def test_follow_shows_new_lines_and_hostile_text_literally(make_sim, make_app) -> None:
    sim = make_sim("healthy")
    app = make_app(sim)
    hostile = "ERROR [bold]x[/] [@click=app.quit]quit[/] \x1b[2J\x1b]0;pwned\x07 done"
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        view = await open_view(
            pilot, app, pods, lambda p: p.app == "rails" and p.status == "Running"
        )
        await wait_for(pilot, lambda: len(view.lines) > 0, what="log lines")
        sim.inject_log_line(pods.selected_pod().name, "rails", hostile)
        await wait_for(
            pilot,
            lambda: any("[@click=app.quit]quit[/]" in text for _, text in view.lines),
            what="the injected line",
        )
        line = next(text for _, text in view.lines if "[@click=app.quit]" in text)
        assert "\x1b" not in line and "\x07" not in line and "␛[2J" in line
        await pilot.press("escape")

        # The same line reaches the error feed (it matches the error pattern), literally.
        logs = app.main.query_one(ErrorLogPane)
        await wait_for(
            pilot,
            lambda: any("[@click=app.quit]" in line.text for line in logs.lines),
            what="the error feed",
        )
        rendered = "\n".join(strip.text for strip in logs.log_view.lines)
        assert "[bold]x[/]" in rendered
        assert app.is_running


async def test_error_feed_follows_pods_that_come_and_go(make_sim, make_app) -> None:
    from kubernetes import client as k8s

    sim = make_sim("healthy")
    app = make_app(sim)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pods, _ = await ready_app(pilot, app)
        logs = app.main.query_one(ErrorLogPane)
        await wait_for(
            pilot,
            lambda: logs.last_batch is not None and logs.last_batch.followed,
            what="followed pods",
        )
        victim = next(p for p in pods.snapshot.pods if p.app == "rails")
        k8s.CoreV1Api(k8s.ApiClient(sim.client_configuration())).delete_namespaced_pod(
            victim.name, "excel-unified"
        )
        await wait_for(
            pilot,
            lambda: (
                victim.name not in logs.last_batch.followed
                and sum(1 for n in logs.last_batch.followed if n.startswith("rails-")) == 3
            ),
            timeout=30,
            what="the replacement followed instead",
        )


async def test_a_live_line_arriving_before_a_long_backlog_is_shown(tmp_path: Path) -> None:
    """Streams deliver in their own order: pod A's live line can reach the pane before
    pod B's 24 h backlog in the same batch.  The pane writes the newest lines (by time),
    so the live line is on screen however long the backlog."""
    from datetime import UTC, datetime, timedelta

    from cockpit.model import Level, LogBatch, LogLine

    from .test_snapshots import static_app

    now = datetime.now(UTC)
    live = LogLine(1, now, "rails-a", "rails", "rails", "ERROR live one")
    backlog = [
        LogLine(2 + i, now - timedelta(hours=20, seconds=-i), "rails-b", "rails", "rails",
                f"ERROR old {i}")
        for i in range(1000)
    ]  # fmt: skip
    batch = LogBatch(
        lines=(live, *backlog), per_minute=(), followed=("rails-a", "rails-b"), capped=0,
        problems=(), taken_at=now, backlog_done=False, level=Level.OK,
    )  # fmt: skip
    app = static_app(tmp_path)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pane = app.main.query_one(ErrorLogPane)
        await pilot.pause()
        pane.show(batch)
        await wait_for(pilot, lambda: not pane.writing, what="the batch written")
        rendered = [strip.text for strip in pane.log_view.lines]
        assert any("ERROR live one" in text for text in rendered)
        assert rendered and "ERROR live one" in rendered[-1]  # the newest, last
        assert not any("ERROR old 0 " in t or t.endswith("ERROR old 0") for t in rendered)
        assert len(pane.lines) == 1001  # all kept for scrolling back and filtering


async def test_the_feed_keeps_5000_lines_but_renders_only_what_a_rewrite_gives(
    tmp_path: Path,
) -> None:
    """Rendered lines are the costly part (a Strip and its caches each): the log holds
    as many as a filter or a pause writes back; the pane keeps all 5,000 for filtering."""
    from datetime import UTC, datetime, timedelta

    from cockpit.model import Level, LogBatch, LogLine
    from widgets.errorlog import REWRITE_MAX, WRITE_PER_BATCH

    from .test_snapshots import static_app

    start = datetime.now(UTC) - timedelta(hours=1)
    app = static_app(tmp_path)
    async with cockpit_running(app, size=(160, 45)) as pilot:
        pane = app.main.query_one(ErrorLogPane)
        await pilot.pause()
        for first in range(0, 5000, WRITE_PER_BATCH):
            lines = tuple(
                LogLine(n + 1, start + timedelta(seconds=n), "rails-a", "rails", "rails",
                        f"ERROR number {n}")
                for n in range(first, min(first + WRITE_PER_BATCH, 5000))
            )  # fmt: skip
            batch = LogBatch(
                lines=lines, per_minute=(), followed=("rails-a",), capped=0, problems=(),
                taken_at=datetime.now(UTC), backlog_done=True, level=Level.OK,
            )  # fmt: skip
            pane.show(batch)
        await wait_for(pilot, lambda: not pane.writing, what="the batch written")
        rendered = [strip.text for strip in pane.log_view.lines]
        assert len(pane.lines) == 5000
        assert len(rendered) == REWRITE_MAX and rendered[-1].endswith("ERROR number 4999")
        pane.action_cycle_app()  # a rewrite (rails only) gives back as many
        # Written a turn of the loop at a time: one pause was not always enough (CI).
        await wait_for(pilot, lambda: not pane.writing, what="the rewrite written")
        assert len(pane.log_view.lines) == REWRITE_MAX
