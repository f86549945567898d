"""SloPane in a small app driven by Pilot: figures coloured by level, the prom lines
beside the log-derived ones, Prometheus absent in one dim line, burn lines, hostile
names shown literally, the summary and level for the header."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import Static

from cockpit.config import Thresholds
from cockpit.model import Level, PrometheusSnapshot, PromFigures, SloSnapshot
from cockpit.slo.figures import build_snapshot
from cockpit.slo.windows import SloWindows
from widgets.slo import SloBody, SloPane, sparkline

T0 = 1_800_000_000.0
NOW = T0 + 3599.5


class PaneApp(App[None]):
    CSS = "SloPane { height: 1fr; border: round white; }"

    def compose(self) -> ComposeResult:
        yield SloPane(id="slo", classes="pane")


def incident(names: tuple[str, ...] = ("rails", "fastapi")) -> SloSnapshot:
    """An hour of traffic: rails fine, fastapi a third 503s after 2.9 s."""
    w = SloWindows(names, origin=T0 - 7200)
    for second in range(3600):
        t = T0 + second
        for _ in range(2):
            w.add(t, names[0], False, 40.0)
        w.add(t, names[1], second % 3 == 0, 2900.0 if second % 3 == 0 else 80.0)
    return build_snapshot(
        w,
        Thresholds(throughput_rps=1),
        99.9,
        NOW,
        taken_at=datetime.now(UTC),
        lines=10_800,
        unparsed=7,
        dropped=0,
        streams=2,
    )


def body_text(pane: SloPane) -> Text:
    content = pane.query_one("#slo-body", Static).content
    assert isinstance(content, Text)  # never a markup string
    return content


def prom_text(pane: SloPane) -> str:
    content = pane.query_one("#slo-prom", Static).content
    assert isinstance(content, Text)
    return content.plain


def style_of(text: Text, needle: str, line_start: str) -> str:
    """The style of `needle` within the line starting with `line_start`."""
    offset = 0
    for line in text.plain.split("\n"):
        if line.startswith(line_start) and needle in line:
            at = offset + line.index(needle)
            styles = [str(s.style) for s in text.spans if s.start <= at < s.end]
            return " ".join(styles)
        offset += len(line) + 1
    raise AssertionError(f"no line {line_start!r} with {needle!r} in\n{text.plain}")


async def test_figures_levels_burn_and_summary() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 40)) as pilot:
        pane = app.query_one(SloPane)
        snap = incident()
        pane.show_source("slo", snap)
        await pilot.pause()
        text = body_text(pane)
        lines = text.plain.split("\n")
        assert lines[0].split() == ["win", "req/s", "err", "%", "p50", "p95", "p99"]
        assert lines[1].split()[:2] == ["all", "1m"]
        fastapi = next(n for n, line in enumerate(lines) if line.startswith("fastapi"))
        row = lines[fastapi].split()
        assert row[:3] == ["fastapi", "1m", "1.0"]
        assert "33.3 %" in lines[fastapi] and "2.9 s" in lines[fastapi]
        assert "red" in style_of(text, "33.3 %", "fastapi")
        assert "red" in style_of(text, "2.9 s", "fastapi")
        # The sparklines ride on the window rows: error share on 1m, p99 on 5m.
        assert "  err ▁" in lines[fastapi] or "  err " in lines[fastapi]
        assert lines[fastapi + 1].split()[0] == "5m" and "  p99 " in lines[fastapi + 1]
        # The failing upstream comes right after "all", before the healthy one.
        assert fastapi < next(n for n, line in enumerate(lines) if line.startswith("rails"))
        assert any(line.startswith("fastapi burn 1h/5m") and "PAGE" in line for line in lines)
        assert "red" in style_of(text, "PAGE", "fastapi burn 1h/5m")
        assert lines[-1].startswith("10,800 lines · 7 unparsed · 0 dropped · 2 nginx streams")
        assert pane.level is Level.CRIT and pane.has_class("level-crit")
        assert pane.summary.startswith("fastapi burn ")
        assert "fastapi err 33.3 %, p99 2.9 s" in pane.summary
        assert prom_text(pane) == "Prometheus: not asked yet"
        assert pane.query_one(SloBody).can_focus


async def test_prometheus_figures_side_by_side_and_absent() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 40)) as pilot:
        pane = app.query_one(SloPane)
        pane.show_source("slo", incident())
        prom = PrometheusSnapshot(
            url="http://127.0.0.1:9090",
            configured=True,
            alerts=(),
            figures=(
                PromFigures("all", 3.0, 11.0, 60.0, 2800.0, 2900.0),
                PromFigures("fastapi", 1.0, 33.0, 85.0, 2900.0, 2950.0),
            ),
            taken_at=datetime.now(UTC),
        )
        pane.show_source("prometheus", prom)
        await pilot.pause()
        lines = body_text(pane).plain.split("\n")
        proms = [line.split() for line in lines if line.lstrip().startswith("prom ")]
        assert proms == [
            ["prom", "3.0", "11.0", "%", "60", "ms", "2.8", "s", "2.9", "s"],
            ["prom", "1.0", "33.0", "%", "85", "ms", "2.9", "s", "3.0", "s"],
        ]
        assert prom_text(pane).startswith("Prometheus: http://127.0.0.1:9090")
        # Unreachable: one dim line, the log-derived figures stay.
        down = PrometheusSnapshot(
            url="http://127.0.0.1:9",
            configured=True,
            alerts=(),
            figures=(),
            taken_at=datetime.now(UTC),
            level=Level.WARN,
            message="http://127.0.0.1:9 refused the connection",
            hint="is Prometheus running?",
        )
        pane.show_source("prometheus", down)
        await pilot.pause()
        assert prom_text(pane) == (
            "Prometheus: http://127.0.0.1:9 refused the connection · is Prometheus running?"
        )
        assert "dim" in str(pane.query_one("#slo-prom", Static).content.style)
        plain = body_text(pane).plain
        assert " prom " not in plain and "\nfastapi 1m " in plain
        absent = PrometheusSnapshot(
            url="",
            configured=False,
            alerts=(),
            figures=(),
            taken_at=datetime.now(UTC),
            message="no Prometheus configured or discovered",
        )
        pane.show_source("prometheus", absent)
        await pilot.pause()
        assert prom_text(pane) == "Prometheus: no Prometheus configured or discovered"
        assert pane.level is Level.CRIT  # Prometheus does not change the logs' verdict


async def test_hostile_names_and_messages_are_shown_literally() -> None:
    app = PaneApp()
    async with app.run_test(size=(110, 40)) as pilot:
        pane = app.query_one(SloPane)
        snap = incident(("[b]x", "e\x1b[31m"))
        hostile = SloSnapshot(
            upstreams=snap.upstreams,
            burn=snap.burn,
            objective_pct=99.9,
            lines=1,
            unparsed=0,
            dropped=0,
            streams=1,
            taken_at=datetime.now(UTC),
            level=Level.WARN,
            message="nginx-[@click=app.quit]x[/]: refused\x07",
            message_level=Level.WARN,
            hint="[bold]retry",
        )
        pane.show(hostile)
        await pilot.pause()
        plain = body_text(pane).plain
        assert plain.startswith("▲ nginx-[@click=app.quit]x[/]: refused␇ · [bold]retry")
        assert "\n[b]x" in plain and "\x1b" not in plain and "e␛[31m" in plain


def test_sparkline_scales_to_the_largest_value() -> None:
    assert sparkline(()) == ""
    assert sparkline((0.0, 0.0)) == "▁▁"
    assert sparkline((0.0, 5.0, 10.0)) == "▁▄█"
    assert len(sparkline(tuple(range(100)))) == 16


async def test_a_prometheus_that_fails_is_one_line_and_its_figures_go() -> None:
    """Prometheus is not the pane's lifeline: its failure (routed by the main screen to
    show_other_failure) replaces the prom rows with one line; the logs' figures stay."""
    from cockpit.model import SourceFailure

    app = PaneApp()
    async with app.run_test(size=(110, 40)) as pilot:
        pane = app.query_one(SloPane)
        pane.show_source("slo", incident())
        figures = (PromFigures("all", 3.0, 11.0, 60.0, 2800.0, 2900.0),)
        up = PrometheusSnapshot("http://p:9090", True, (), figures, datetime.now(UTC))
        pane.show_source("prometheus", up)
        await pilot.pause()
        assert " prom " in "\n" + body_text(pane).plain.replace("\n", "\n ")
        failure = SourceFailure(
            "prometheus", "http://p:9090 refused the connection", "is it running?",
            datetime.now(UTC), 5.0, 1,
        )  # fmt: skip
        pane.show_other_failure(failure)
        await pilot.pause()
        assert prom_text(pane) == (
            "Prometheus: http://p:9090 refused the connection · is it running?"
        )
        plain = body_text(pane).plain
        assert "prom " not in plain and "\nfastapi 1m " in plain
        assert not pane.has_class("stale") and pane.level is Level.CRIT
        pane.show_source("prometheus", up)  # back: the figures return
        await pilot.pause()
        assert prom_text(pane).startswith("Prometheus: http://p:9090 (")
