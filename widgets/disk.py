"""The Disk pane: `df` in the pods that hold data, one row per pod and mount, coloured by
the runbook's 85 % (warn) and 95 % (crit).  A pod whose exec failed is a row with the
error, and the hint under the table.  `C` cleans up the selected row's pod (the action
previews the exact files first; see actions/disk/cleanup.py).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from cockpit.config import DiskSettings
from cockpit.model import DiskSnapshot, Level, PodDisk, PodMount
from cockpit.textsafe import one_line
from cockpit.units import bytes_text
from widgets.cells import LEVEL_MARK, LEVEL_STYLE, bar, leveled, plain
from widgets.keys import Key
from widgets.messages import ActionRequested
from widgets.pane import Pane
from widgets.statictext import set_text
from widgets.table import Cells, KeyedTable

# The figure first: a narrow pane must not lose the percentage behind a long mount path.
COLUMNS = (
    ("pod", "POD"),
    ("used", "USED%"),
    ("bar", ""),
    ("mount", "MOUNT"),
    ("size", "SIZE"),
    ("avail", "AVAIL"),
    ("level", "LEVEL"),
)
BAR_WIDTH = 10
LEVEL_WORD = {Level.OK: "ok", Level.WARN: "WARN", Level.CRIT: "CRIT"}


def row_key(pod: str, mount: str) -> str:
    # NUL cannot occur in a pod name or a mount path: the key splits back unambiguously.
    return f"{pod}\0{mount}"


def mount_cells(m: PodMount) -> Cells:
    style = LEVEL_STYLE[m.level]
    return (
        plain(m.pod),
        leveled(f"{m.percent:.0f}%", m.level),
        plain(bar(m.percent / 100, BAR_WIDTH), style),
        plain(m.mount + ("" if m.persistent else " (container)"), "" if m.persistent else "dim"),
        plain(bytes_text(m.size)),
        plain(bytes_text(m.avail)),
        leveled(f"{LEVEL_MARK[m.level]} {LEVEL_WORD[m.level]}", m.level),
    )


def error_cells(p: PodDisk) -> Cells:
    return (
        plain(p.pod),
        plain("-"),
        plain(""),
        plain(one_line(p.error, 200), LEVEL_STYLE[Level.WARN]),
        plain("-"),
        plain("-"),
        leveled(f"{LEVEL_MARK[p.level]} ?", p.level),
    )


def rows_of(snap: DiskSnapshot) -> list[tuple[str, Cells]]:
    rows: list[tuple[str, Cells]] = []
    for p in snap.pods:
        if p.error:
            rows.append((row_key(p.pod, ""), error_cells(p)))
        for m in p.mounts:
            rows.append((row_key(p.pod, m.mount), mount_cells(m)))
    return rows


def summary_of(snap: DiskSnapshot) -> str:
    worst = [
        f"{m.pod} {m.mount} {m.percent:.0f}%"
        for p in snap.pods
        for m in p.mounts
        if m.level > Level.OK
    ]
    failing = [f"{p.pod}: df failed" for p in snap.pods if p.error]
    return ", ".join((worst + failing)[:2])


class DiskPane(Pane):
    """`show(snapshot)` on every poll (slow: exec is not free)."""

    PANE_TITLE = "Disk"
    SOURCES = ("disk",)
    FRESH_FOR = 150.0  # polled every 60 s
    KEYS = (
        Key("C", "cleanup", "Clean up disk", "disk.cleanup", mutating=True,
            palette="Disk: clean up {target} (preview first)"),
    )  # fmt: skip
    DEFAULT_CSS = """
    DiskPane #disk-note { height: auto; display: none; text-wrap: nowrap; text-overflow: ellipsis; }
    DiskPane #disk-note.shown { display: block; }
    """

    def __init__(self, *, settings: DiskSettings | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.settings = settings or DiskSettings()
        self.snapshot: DiskSnapshot | None = None

    def compose(self) -> ComposeResult:
        yield self.compose_failure()
        yield KeyedTable(COLUMNS, id="disk-table")
        yield Static("", id="disk-note", markup=False, classes="pane-body")

    def show(self, snap: DiskSnapshot, now: datetime | None = None) -> None:
        self.snapshot = snap
        self.mark_fresh(snap.taken_at)
        self.level = snap.level
        self.summary = summary_of(snap)
        self.query_one("#disk-table", KeyedTable).apply(rows_of(snap))
        note = Text()
        if not snap.pods and snap.message:
            note.append(one_line(snap.message, 200), style="dim")
        for p in snap.pods:
            if p.error and p.hint:
                if note:
                    note.append("\n")
                note.append(f"{one_line(p.pod, 60)}: ", style="bold")
                note.append(one_line(p.hint, 240), style="italic")
        noted = self.query_one("#disk-note", Static)
        set_text(noted, note)
        noted.set_class(bool(note), "shown")

    def selected_pod(self) -> str | None:
        """The pod of the highlighted row (the first row's before any is chosen)."""
        key = self.query_one("#disk-table", KeyedTable).selected_key
        if key is None:
            return None
        return key.split("\0", 1)[0]

    def action_cleanup(self) -> None:
        pod = self.selected_pod()
        if pod is None:
            self.notify("No pod selected: wait for the disk data", severity="warning")
            return
        self.post_message(ActionRequested("disk.cleanup", pod=pod, settings=self.settings))

    def palette_target(self, key: Key) -> str | None:
        return self.selected_pod()
