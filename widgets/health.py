"""The Health pane: the runbook's `curl .../health` checks, one row per endpoint.

    ● excel-unified.com     200    85ms  ok      cert 42 d  ▁▂▁▃▂▁      direct
    ✖ rails-service:3000    503   120ms  error              ▁▁▂✖✖       proxy
      HTTP 503 Service Unavailable · the app reports itself unhealthy: see its logs

The columns a narrow pane keeps come first: what answered, how fast, what the app says
about itself and the certificate; the history and the path last.

Each row is coloured by its endpoint's level; an endpoint in trouble gets a second line
with the error in words and the hint.  Names, URLs, statuses and errors are untrusted:
plain Text only, never markup.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.model import EndpointHealth, HealthSnapshot, Level
from cockpit.textsafe import clean, one_line
from cockpit.units import duration_ms, since
from widgets.cells import LEVEL_MARK, LEVEL_STYLE
from widgets.pane import Pane
from widgets.statictext import set_text

BLOCKS = "▁▂▃▄▅▆▇█"
FAILED_MARK = "✖"
SPARK_WIDTH = 10
SPARK_FLOOR_MS = 50.0  # a flat line of 3-5 ms must not look like a storm
NAME_WIDTH = 24
DIM = "dim"
SEP = " · "
VIA_SHORT = {"direct": "direct", "service proxy": "proxy"}


def spark(history: tuple[float | None, ...], width: int = SPARK_WIDTH) -> Text:
    """The latency history as unicode blocks, failed checks as a red ✖."""
    shown = history[-width:]
    top = max([SPARK_FLOOR_MS, *(v for v in shown if v is not None)])
    text = Text(no_wrap=True)
    for value in shown:
        if value is None:
            text.append(FAILED_MARK, style="red")
        else:
            index = min(len(BLOCKS) - 1, int(value / top * (len(BLOCKS) - 1)))
            text.append(BLOCKS[index], style="cyan")
    return text.append(" " * (width - len(shown)))


def cert_text(days: float | None) -> str:
    if days is None:
        return ""
    return f"cert {days:.0f} d" if days >= 1 else f"cert {max(days, 0) * 24:.0f} h"


def pending(e: EndpointHealth) -> bool:
    return e.checked_at is None


def row(e: EndpointHealth, name_width: int, certs: bool = True) -> Text:
    """One endpoint's row; `certs` False when no endpoint shown has a certificate (the
    column would only push the history off a narrow pane)."""
    style = LEVEL_STYLE[e.level]
    line = Text(no_wrap=True, overflow="ellipsis")
    line.append(f"{LEVEL_MARK[e.level]} ", style=style)
    line.append(clean(e.name, name_width).ljust(name_width), style=style or "bold")
    via = f"  {VIA_SHORT.get(e.via, clean(e.via, 8))}"
    if pending(e):
        return line.append("  " + one_line(e.error, 120), style=DIM).append(via, style=DIM)
    line.append(f"  {e.status if e.status is not None else '---':>3}", style=style)
    latency = duration_ms(e.ms) if e.ms is not None else "-"
    line.append(f" {latency:>7}", style=style)
    line.append("  " + clean(e.app_status or "", 8).ljust(8), style=style)
    if certs:
        line.append("  " + cert_text(e.cert_days).ljust(9), style=style)
    line.append("  ").append_text(spark(e.history))
    return line.append(via, style=DIM)


def problem_line(e: EndpointHealth, now: datetime) -> Text | None:
    if not e.error or pending(e):
        return None
    style = LEVEL_STYLE[max(e.level, Level.WARN)]
    line = Text("  ", no_wrap=True, overflow="ellipsis")
    line.append(one_line(e.error, 200), style=style)
    if e.failing_since is not None:
        line.append(f" (for {since(e.failing_since, now)})", style=DIM)
    if e.hint:
        line.append(SEP).append(one_line(e.hint, 160), style="italic")
    return line


def body_text(snap: HealthSnapshot, now: datetime) -> Text:
    if not snap.endpoints:
        return Text("no health endpoints configured (health.urls, health.services)", style=DIM)
    width = min(NAME_WIDTH, max(len(clean(e.name, NAME_WIDTH)) for e in snap.endpoints))
    lines: list[Text] = []
    certs = any(e.cert_days is not None for e in snap.endpoints)
    for e in snap.endpoints:
        lines.append(row(e, width, certs))
        problem = problem_line(e, now)
        if problem is not None:
            lines.append(problem)
    return Text("\n", no_wrap=True, overflow="ellipsis").join(lines)


def summary_text(snap: HealthSnapshot, limit: int = 2) -> str:
    bad = sorted((e for e in snap.endpoints if e.level > Level.OK), key=lambda e: -int(e.level))
    words = [f"{clean(e.name, 40)} {clean(e.reason, 40)}".rstrip() for e in bad[:limit]]
    if len(bad) > limit:
        words.append(f"+{len(bad) - limit} more")
    return ", ".join(words)


class HealthBody(Static, can_focus=True):
    """Focusable so that the pane can be chosen (1-9, tab) and zoomed like the others."""


class HealthPane(Pane):
    """`show(snapshot)` on every poll; `mark_failed(failure)` keeps the last data, stale."""

    PANE_TITLE = "Health"
    SOURCES = ("health",)
    DEFAULT_CSS = """
    HealthPane #health-body { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: HealthSnapshot | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield HealthBody("", id="health-body", markup=False, classes="pane-body")

    def show(self, snap: HealthSnapshot, now: datetime | None = None) -> None:
        self.snapshot = snap
        self.mark_fresh(snap.taken_at)
        set_text(self.query_one("#health-body", Static), body_text(snap, now or snap.taken_at))
        self.level = snap.level
        self.summary = summary_text(snap)
        self.set_title(self.title_text(snap))

    @staticmethod
    def title_text(snap: HealthSnapshot) -> Text:
        title = Text("Health")
        checked = [e for e in snap.endpoints if not pending(e)]
        failing = sum(1 for e in checked if e.error)
        if checked:
            title.append(f"{SEP}{len(checked) - failing}/{len(checked)} answering")
        if failing:
            title.append(SEP).append(f"{failing} failing", LEVEL_STYLE[snap.level])
        return title
