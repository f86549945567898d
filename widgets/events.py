"""The events pane: warnings first, newest first, with counts and their object."""

from __future__ import annotations

from textual.app import ComposeResult

from cockpit import clock
from cockpit.model import EventsSnapshot
from cockpit.units import since
from widgets.cells import LEVEL_STYLE, plain
from widgets.pane import Pane
from widgets.table import KeyedTable

COLUMNS = (
    ("last", "LAST SEEN"),
    ("type", "TYPE"),
    ("reason", "REASON"),
    ("object", "OBJECT"),
    ("count", "COUNT"),
    ("message", "MESSAGE"),
)


class EventsPane(Pane):
    PANE_TITLE = "Events"
    SOURCES = ("events",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.snapshot: EventsSnapshot | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield KeyedTable(COLUMNS, id="events-table")

    def show(self, snapshot: EventsSnapshot) -> None:
        self.snapshot = snapshot
        self.mark_fresh(snapshot.taken_at)
        now = clock.now()
        rows = []
        for e in snapshot.events:
            style = LEVEL_STYLE[e.level]
            rows.append(
                (
                    e.uid,
                    (
                        plain(since(e.last_seen, now)),
                        plain(e.type, style),
                        plain(e.reason, style),
                        plain(f"{e.object_kind.lower()}/{e.object_name}"),
                        plain(e.count),
                        plain(e.message),
                    ),
                )
            )
        self.query_one(KeyedTable).apply(rows)
        warnings = sum(1 for e in snapshot.events if e.type == "Warning")
        recent = snapshot.recent  # the source decided what is recent
        self.level = snapshot.level
        self.summary = (
            f"{recent[0].reason} {recent[0].object_kind.lower()}/{recent[0].object_name}"
            if recent
            else ""
        )
        title = f"Events ({len(snapshot.events)}) · {warnings} warnings"
        if recent:
            title += f" · {len(recent)} in the last 10 min"
        self.set_title(title)
