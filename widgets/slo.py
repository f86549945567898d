"""The SLOs pane: traffic figures from the nginx access logs, beside Prometheus' own.

Per upstream (all, rails, fastapi): the 1 m and 5 m windows' req/s, error share and
p50/p95/p99, each in its level's colour; a "prom" line with PromQL's 5-minute figures
when Prometheus answers; three sparklines (req/s, err %, p99, one point per 10 s); then
the error-budget burn rates.  The access logs are the lifeline ("slo"); Prometheus is an
extra, and when it is absent or down one dim line says so.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.model import (
    BurnRate,
    PrometheusSnapshot,
    PromFigures,
    SloSnapshot,
    SourceFailure,
    UpstreamSlo,
    WindowFigures,
)
from cockpit.slo.report import burn_line, ms_text, pct_text, summary
from cockpit.textsafe import one_line
from widgets.cells import LEVEL_MARK, LEVEL_STYLE
from widgets.pane import Pane
from widgets.statictext import set_text

BLOCKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 16  # one point per 10 s: the last 160 s (fits an 80-column pane)
NAME_W, WIN_W, RPS_W, ERR_W, MS_W = 8, 5, 9, 9, 8


def sparkline(values: tuple[float, ...], width: int = SPARK_WIDTH) -> str:
    """Block characters scaled to the largest value ("" when there is nothing)."""
    shown = values[-width:]
    if not shown:
        return ""
    top = max(shown)
    if top <= 0:
        return BLOCKS[0] * len(shown)
    return "".join(BLOCKS[min(7, int(v / top * 7.999))] for v in shown)


def rps_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


class SloBody(Static, can_focus=True):
    """Focusable so that the pane can be chosen (1-9, tab) and zoomed like the others."""


class SloPane(Pane):
    PANE_TITLE = "SLOs"
    SOURCES = ("slo", "prometheus")
    DEFAULT_CSS = """
    SloPane #slo-body { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: SloSnapshot | None = None
        self.prometheus: PrometheusSnapshot | None = None
        self.prometheus_failure: SourceFailure | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("", id="slo-prom", markup=False, classes="dim")
        yield SloBody("", id="slo-body", markup=False, classes="pane-body")

    def show_source(self, source: str, snapshot: object) -> None:
        if source == "prometheus" and isinstance(snapshot, PrometheusSnapshot):
            self.prometheus = snapshot
            self.prometheus_failure = None
            self._redraw()
        elif isinstance(snapshot, SloSnapshot):
            self.show(snapshot)

    def show(self, snap: SloSnapshot) -> None:
        self.snapshot = snap
        self.mark_fresh(snap.taken_at)
        self.level = snap.level
        self.summary = summary(snap)
        self._redraw()

    # -- rendering -----------------------------------------------------------------------

    def _redraw(self) -> None:
        set_text(self.query_one("#slo-prom", Static), self._prom_line())
        snap = self.snapshot
        if snap is None:
            return
        body = Text(no_wrap=True, overflow="ellipsis")
        if snap.message:
            body.append(f"{LEVEL_MARK[snap.message_level]} ", style=LEVEL_STYLE[snap.message_level])
            body.append(one_line(snap.message, 200), style=LEVEL_STYLE[snap.message_level])
            if snap.hint:
                body.append(" · " + one_line(snap.hint, 160), style="italic dim")
            body.append("\n")
        body.append(
            f"{'':<{NAME_W}}{'win':<{WIN_W}}{'req/s':>{RPS_W}}{'err %':>{ERR_W}}"
            f"{'p50':>{MS_W}}{'p95':>{MS_W}}{'p99':>{MS_W}}\n",
            style="bold",
        )
        prom = self._prom_figures()
        # "all" first, then the worst upstream: at 3 a.m. the failing one must not be
        # the row that falls off the bottom of the pane.
        first, rest = snap.upstreams[:1], snap.upstreams[1:]
        for up in (*first, *sorted(rest, key=lambda u: -u.level)):
            self._upstream_rows(body, up, prom.get(up.name))
        self._burn_rows(body, snap.burn)
        body.append(
            f"{snap.lines:,} lines · {snap.unparsed:,} unparsed · {snap.dropped:,} dropped · "
            f"{snap.streams} nginx streams · objective {snap.objective_pct:g} %",
            style="dim",
        )
        set_text(self.query_one("#slo-body", Static), body)

    def _upstream_rows(self, body: Text, up: UpstreamSlo, prom: PromFigures | None) -> None:
        name = one_line(up.name, NAME_W - 1)
        # The sparklines ride on the window rows (one point per 10 s): error share on
        # the 1 m row, p99 on the 5 m row; the pane stays one row per window.
        self._window_row(body, name, "1m", up.one_minute)
        body.append("  err ", style="dim")
        body.append(sparkline(up.error_pct_history), style=LEVEL_STYLE[up.one_minute.error_level])
        body.append("\n")
        self._window_row(body, "", "5m", up.five_minutes)
        body.append("  p99 ", style="dim")
        body.append(sparkline(up.p99_history), style=LEVEL_STYLE[up.five_minutes.p99_level])
        body.append("\n")
        if prom is not None:
            body.append(f"{'':<{NAME_W}}{'prom':<{WIN_W}}", style="dim")
            body.append(f"{rps_text(prom.rps):>{RPS_W}}", style="dim")
            body.append(f"{pct_text(prom.error_pct):>{ERR_W}}", style="dim")
            for value in (prom.p50_ms, prom.p95_ms, prom.p99_ms):
                body.append(f"{ms_text(value):>{MS_W}}", style="dim")
            body.append("\n")

    def _window_row(self, body: Text, name: str, label: str, w: WindowFigures) -> None:
        body.append(f"{name:<{NAME_W}}", style=LEVEL_STYLE[w.level] if name else "")
        short = "" if w.seconds >= (55 if label == "1m" else 295) else "*"
        body.append(f"{label + short:<{WIN_W}}", style="dim")
        body.append(f"{rps_text(w.rps):>{RPS_W}}", style=LEVEL_STYLE[w.rps_level])
        body.append(f"{pct_text(w.error_pct):>{ERR_W}}", style=LEVEL_STYLE[w.error_level])
        body.append(f"{ms_text(w.p50_ms):>{MS_W}}", style=LEVEL_STYLE[w.p50_level])
        body.append(f"{ms_text(w.p95_ms):>{MS_W}}", style=LEVEL_STYLE[w.p95_level])
        body.append(f"{ms_text(w.p99_ms):>{MS_W}}", style=LEVEL_STYLE[w.p99_level])

    def _burn_rows(self, body: Text, burns: tuple[BurnRate, ...]) -> None:
        """One row per upstream with both window pairs: always "all", the others only
        when one of their pairs fires."""
        by_upstream: dict[str, list[BurnRate]] = {}
        for burn in burns:
            by_upstream.setdefault(burn.upstream, []).append(burn)
        for upstream, pairs in by_upstream.items():
            if upstream != "all" and not any(b.firing for b in pairs):
                continue
            body.append(f"{one_line(upstream, NAME_W - 1):<{NAME_W}}", style="dim")
            for i, burn in enumerate(pairs):
                line = burn_line(burn)
                if i:  # "burn" once per row
                    body.append(" · ", style="dim")
                    line = line.removeprefix("burn ")
                body.append(line, style=LEVEL_STYLE[burn.level] if burn.firing else "")
            seen = min(b.covered_s for b in pairs)
            longest = max(3600 if b.long_window == "1h" else 6 * 3600 for b in pairs)
            if seen < longest - 60:
                body.append(f" (seen {seen / 60:.0f}m)", style="dim")
            body.append("\n")

    def _prom_figures(self) -> dict[str, PromFigures]:
        prom = self.prometheus
        if self.prometheus_failure is not None:
            return {}
        if prom is None or not prom.configured or not prom.figures or prom.message:
            return {}
        return {f.upstream: f for f in prom.figures}

    def show_other_failure(self, failure: SourceFailure) -> None:
        """Prometheus failed (unreachable, refused): its figures go, one line says why;
        the log-derived figures are the lifeline and stay."""
        if failure.source == "prometheus":
            self.prometheus_failure = failure
            self._redraw()

    def _prom_line(self) -> Text:
        prom = self.prometheus
        if self.prometheus_failure is not None:
            failure = self.prometheus_failure
            text = Text("Prometheus: " + one_line(failure.message, 200), style="dim")
            if failure.hint:
                text.append(" · " + one_line(failure.hint, 160), style="dim italic")
            text.no_wrap, text.overflow = True, "ellipsis"
            return text
        if prom is None:
            return Text("Prometheus: not asked yet", style="dim")
        if not prom.configured:
            words = prom.message or "not configured"
        elif prom.message:
            words = prom.message
        elif not prom.figures:
            words = f"{prom.url}: no request metrics"
        else:
            words = f"{prom.url} (the prom lines: PromQL over 5 m)"
        text = Text("Prometheus: " + one_line(words, 200), style="dim")
        # One line.  The hint for a missing Prometheus is the Alerts pane's to give; a
        # configured one that fails says what to do here too.
        if prom.hint and prom.configured and prom.message:
            text.append(" · " + one_line(prom.hint, 160), style="dim italic")
        text.no_wrap, text.overflow = True, "ellipsis"
        return text

    @property
    def firing(self) -> tuple[BurnRate, ...]:
        snap = self.snapshot
        return tuple(b for b in snap.burn if b.firing) if snap else ()
