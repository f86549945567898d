"""RedisPane in a tiny app driven by Pilot: warnings, level class, stale state, hostile text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from cockpit.model import Level, RedisSnapshot, SourceFailure
from widgets.redis import RedisPane, body_text

NOW = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
OOM = (
    'writes will fail: noeviction at 96% of maxmemory, "OOM command not allowed when used '
    "memory > 'maxmemory'\" · runbook: CONFIG SET maxmemory-policy allkeys-lru"
)


def snapshot(**changes: object) -> RedisSnapshot:
    base = RedisSnapshot(
        server="127.0.0.1:6379/0",
        version="7.0.15",
        used_memory=96 * 1024 * 1024,
        maxmemory=100 * 1024 * 1024,
        policy="noeviction",
        fragmentation=1.08,
        hit_ratio=0.932,
        ops_per_sec=1234.0,
        evicted_per_sec=0.0,
        connected_clients=12,
        blocked_clients=1,
        rejected_connections=0,
        keys=((0, 123_456), (3, 5)),
        last_save=NOW - timedelta(minutes=3),
        last_fork_usec=1200,
        rtt_ms=0.42,
        warnings=(OOM,),
        taken_at=NOW,
        level=Level.CRIT,
        expired_per_sec=3.0,
        rejected_per_sec=0.0,
        expires=((0, 20), (3, 0)),
        uptime_s=3 * 86400,
        memory_level=Level.CRIT,
        last_save_ok=True,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


class PaneApp(App[None]):
    CSS = "RedisPane { width: 52; height: 14; border: round white; }"

    def compose(self) -> ComposeResult:
        yield RedisPane(id="redis")


def shown(pane: RedisPane, selector: str) -> str:
    static = pane.query_one(selector, Static)
    content = static.content
    assert isinstance(content, Text)  # never a markup string
    return content.plain


async def test_near_limit_warning_is_visible_with_level_class() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 16)) as pilot:
        pane = app.query_one(RedisPane)
        pane.show(snapshot())
        await pilot.pause()
        warnings = pane.query_one("#redis-warnings", Static)
        assert warnings.display and warnings.region.height >= 2
        assert "OOM command not allowed" in shown(pane, "#redis-warnings")
        assert "allkeys-lru" in shown(pane, "#redis-warnings")
        assert pane.has_class("level-crit") and not pane.has_class("level-ok")
        body = shown(pane, "#redis-body")
        assert "96%" in body and "96.0Mi/100Mi" in body
        assert "noeviction" in body and "db0 123k" in body and "db3 5" in body
        assert "1.2k ops/s" in body and "rtt 0.4ms" in body
        # The policy is highlighted when it cannot evict and memory is critical.
        content = pane.query_one("#redis-body", Static).content
        assert isinstance(content, Text)
        start = content.plain.index("noeviction")
        styles = [str(s.style) for s in content.spans if s.start <= start < s.end]
        assert any("red" in style for style in styles)

        # Back to healthy: warnings hidden, class follows.
        pane.show(snapshot(warnings=(), level=Level.OK, memory_level=Level.OK, used_memory=1))
        await pilot.pause()
        assert not pane.query_one("#redis-warnings", Static).display
        assert pane.has_class("level-ok") and not pane.has_class("level-crit")


async def test_failure_marks_stale_and_keeps_last_data() -> None:
    app = PaneApp()
    async with app.run_test(size=(60, 16)) as pilot:
        pane = app.query_one(RedisPane)
        pane.show(snapshot())
        await pilot.pause()
        pane.mark_failed(
            SourceFailure(
                "redis",
                "Redis 127.0.0.1:6379/0: connection refused",
                "is it running? set REDIS_URL or COCKPIT_REDIS__URL",
                retry_in=4,
            )
        )
        await pilot.pause()
        assert pane.has_class("stale")
        assert "STALE" in (pane.border_subtitle or "")
        assert "96.0Mi/100Mi" in shown(pane, "#redis-body")  # the last good data stays
        failure = pane.query_one(".failure", Static)
        assert failure.display and "connection refused" in str(failure.content)
        pane.show(snapshot())  # recovered
        await pilot.pause()
        assert not pane.has_class("stale")


async def test_no_limit_and_small_pane() -> None:
    app = PaneApp()
    async with app.run_test(size=(40, 10)) as pilot:  # smaller than at 100x30
        pane = app.query_one(RedisPane)
        pane.styles.width = 34
        pane.styles.height = 9
        pane.show(
            snapshot(maxmemory=0, warnings=(), level=Level.OK, memory_level=Level.OK, keys=())
        )
        await pilot.pause()
        body = shown(pane, "#redis-body")
        assert "no limit" in body and "keys none" in body
        # One fact per line: long lines are cut with an ellipsis, never wrapped.
        assert pane.query_one("#redis-body", Static).size.height == len(body.splitlines())


async def test_hostile_server_strings_are_shown_literally() -> None:
    hostile = "[@click=app.quit]x[/]"
    snap = snapshot(
        version="[bold]7[/]\x1b[31m",
        policy=hostile,
        warnings=(f"policy {hostile} [/] \x1b]0;title\x07 at 96%",),
        notes=("[red]note[/",),
        server="host[/]:6379/0",
    )
    app = PaneApp()
    async with app.run_test(size=(60, 16)) as pilot:
        pane = app.query_one(RedisPane)
        pane.show(snap)
        await pilot.pause()  # rendering raised no MarkupError
        body = shown(pane, "#redis-body")
        assert hostile in body and "[bold]7[/]␛[31m" in body and "[red]note[/" in body
        warnings = shown(pane, "#redis-warnings")
        assert f"policy {hostile} [/] ␛]0;title␇" in warnings
        assert "\x1b" not in body + warnings
        await pilot.click(RedisPane)  # a click on the text quits nothing
        await pilot.pause()
        assert app.is_running


def test_body_text_is_plain_text_cut_not_wrapped() -> None:
    text = body_text(snapshot(), width=30, now=NOW)
    assert text.no_wrap and text.overflow == "ellipsis"
    assert "saved 3m ago" in text.plain
    failed = body_text(snapshot(last_save_ok=False), now=NOW).plain
    assert "saved FAILED" in failed


async def test_figures_read_10_s_ago_still_read_live() -> None:
    """A calm server's figures come every 10 s (PINGed between): live until a reading
    is late, then their age."""
    app = PaneApp()
    async with app.run_test(size=(60, 16)) as pilot:
        pane = app.query_one(RedisPane)
        pane.show(snapshot())
        pane.tick(NOW + timedelta(seconds=12))
        await pilot.pause()
        assert "live" in str(pane.border_subtitle)
        pane.tick(NOW + timedelta(seconds=40))
        await pilot.pause()
        assert "live" not in str(pane.border_subtitle)
        assert "ago" in str(pane.border_subtitle)
