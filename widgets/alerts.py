"""The Alerts pane: Prometheus' firing and pending alerts, one row each.

STATE (FIRING / pending), ALERT, SEVERITY, SINCE (age of activeAt), SUMMARY and the
RUNBOOK section it maps to, firing first.  Above the table one status line: "no alerts
firing", why there is no Prometheus and how to add one, or the figures' problem.  When
Prometheus is configured but unreachable the poll fails and the pane goes stale with
the failure line (words and hint), keeping the last alerts it saw.  Alert names,
summaries and labels come from the rules' authors and Prometheus: plain Text only.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit import clock
from cockpit.model import Alert, Level, PrometheusSnapshot
from cockpit.textsafe import clean, one_line
from cockpit.units import since
from widgets.cells import LEVEL_MARK, LEVEL_STYLE, leveled, plain
from widgets.pane import Pane
from widgets.statictext import set_text
from widgets.table import Cells, KeyedTable

DIM = "dim"
RERENDER_S = 10.0  # the SINCE column moves: re-render this often between polls
COLUMNS = (
    ("state", "STATE"),
    ("alert", "ALERT"),
    ("severity", "SEVERITY"),
    ("since", "SINCE"),
    ("summary", "SUMMARY"),
    ("runbook", "RUNBOOK"),
)


def alert_key(alert: Alert) -> str:
    """Unique per alert instance: the same rule fires once per label set."""
    labels = ",".join(f"{k}={v}" for k, v in alert.labels)
    return f"{alert.name}|{alert.state}|{labels}"


def alert_cells(alert: Alert, now: datetime) -> Cells:
    state = "FIRING" if alert.state == "firing" else alert.state
    labels = " ".join(f"{k}={v}" for k, v in alert.labels if k in ("app", "pod", "status"))
    name = plain(alert.name, "bold" if alert.state == "firing" else "")
    if labels:
        name.append(f" {clean(labels, 80)}", style=DIM)
    return (
        leveled(state, alert.level),
        name,
        plain(alert.severity or "-", LEVEL_STYLE[alert.level] if alert.state == "firing" else ""),
        plain(since(alert.since, now)),
        plain(alert.summary or "-"),
        plain(alert.runbook or "-", DIM if not alert.runbook else ""),
    )


def status_text(snap: PrometheusSnapshot) -> Text:
    if not snap.configured:
        text = Text(f"{one_line(snap.message, 200)}", style=DIM)
        if snap.hint:
            text.append(f" — {one_line(snap.hint, 200)}", style="italic")
        return text
    firing, pending = snap.firing, len(snap.alerts) - snap.firing
    if not snap.alerts:
        text = Text(f"{LEVEL_MARK[Level.OK]} no alerts firing", style="green")
    else:
        text = Text(f"{LEVEL_MARK[snap.level]} ", style=LEVEL_STYLE[snap.level])
        text.append(f"{firing} firing", style=LEVEL_STYLE[Level.CRIT] if firing else "")
        text.append(f" · {pending} pending", style=LEVEL_STYLE[Level.WARN] if pending else DIM)
    text.append(f" · {clean(snap.url, 120)}", style=DIM)
    if snap.message:
        text.append(f"\n{LEVEL_MARK[Level.WARN]} {one_line(snap.message, 300)}", "yellow")
        if snap.hint:
            text.append(f" · {one_line(snap.hint, 160)}", style="italic")
    return text


def summary_words(snap: PrometheusSnapshot) -> str:
    """A few words for the header and the war room: "HighErrorRate firing"."""
    if not snap.configured or not snap.alerts:
        return snap.message if snap.configured else ""
    top = snap.alerts[0]
    words = f"{top.name} {top.state}"
    if len(snap.alerts) > 1:
        words += f" (+{len(snap.alerts) - 1})"
    return words


class AlertsPane(Pane):
    """`show(snapshot)` on every poll; `mark_failed(failure)` keeps the last rows, stale."""

    PANE_TITLE = "Alerts"
    SOURCES = ("prometheus",)
    FRESH_FOR = 40.0  # polled every 15 s
    DEFAULT_CSS = """
    AlertsPane #alerts-status { height: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    AlertsPane KeyedTable { scrollbar-size-horizontal: 0; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: PrometheusSnapshot | None = None
        self.title_shown = Text(self.PANE_TITLE)
        self._rendered_at: datetime | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield Static("", id="alerts-status", markup=False, classes="pane-body")
        yield KeyedTable(COLUMNS, id="alerts-table")

    def on_mount(self) -> None:
        self.query_one("#alerts-table", KeyedTable).styles.height = "1fr"

    def show(self, snapshot: PrometheusSnapshot, now: datetime | None = None) -> None:
        self.snapshot = snapshot
        self.mark_fresh(snapshot.taken_at)
        self.level = snapshot.level
        self.summary = summary_words(snapshot)
        self.render_snapshot(snapshot, now or clock.now())

    def tick(self, now: datetime | None = None) -> None:
        now = now or clock.now()
        super().tick(now)
        last = self._rendered_at
        due = last is not None and (now - last).total_seconds() >= RERENDER_S
        if self.snapshot is not None and due:
            self.render_snapshot(self.snapshot, now)

    def render_snapshot(self, snap: PrometheusSnapshot, now: datetime) -> None:
        self._rendered_at = now
        set_text(self.query_one("#alerts-status", Static), status_text(snap))
        rows = [(alert_key(a), alert_cells(a, now)) for a in snap.alerts]
        self.query_one("#alerts-table", KeyedTable).apply(rows)
        title = Text(self.PANE_TITLE)
        if snap.firing:
            title.append(f" · {snap.firing} firing", LEVEL_STYLE[Level.CRIT])
        elif snap.alerts:
            title.append(f" · {len(snap.alerts)} pending", LEVEL_STYLE[Level.WARN])
        self.title_shown = title
        self.set_title(title)
