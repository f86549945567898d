"""The one-line header: context, namespace, mode, the overall status, and a clock."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from cockpit import clock as cockpit_clock
from cockpit.model import Level
from widgets.cells import LEVEL_MARK

MODE_STYLE = {
    "ARMED": "bold white on dark_red",
    "READ-ONLY": "bold black on green",
    "DRY-RUN": "bold black on cyan",
}
OVERALL_STYLE = {
    Level.OK: "bold black on green",
    Level.WARN: "bold black on yellow",
    Level.CRIT: "bold white on red",
}


class CockpitHeader(Widget):
    DEFAULT_CSS = """
    CockpitHeader { dock: top; height: 1; background: $panel; color: $foreground; }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.context = "…"
        self.namespace = "…"
        self.mode = "ARMED"
        self.overall = Level.OK
        self.problems: list[str] = []
        self.note = ""  # e.g. "demo: simulated cluster"
        self.journal_problem: str | None = None  # set: actions are refused, say so loudly
        self._shown: tuple[object, ...] = ()

    def set_target(self, context: str, namespace: str) -> None:
        self.context, self.namespace = context, namespace
        self.refresh_text()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.refresh_text()

    def set_journal_problem(self, problem: str | None) -> None:
        self.journal_problem = problem
        self.refresh_text()

    def set_overall(self, level: Level, problems: list[str]) -> None:
        self.overall, self.problems = level, problems
        self.refresh_text()

    def refresh_text(self) -> None:
        """Repaint only when something shown changed (called every second and on
        every snapshot: an unconditional repaint is a wasted frame)."""
        shown = (
            self.context,
            self.namespace,
            self.mode,
            self.overall,
            tuple(self.problems),
            self.note,
            self.journal_problem,
            cockpit_clock.now().strftime("%H:%M:%S" if cockpit_clock.replaying() else "%H:%M"),
        )
        if shown != self._shown:
            self._shown = shown
            self.refresh()

    def render(self) -> Text:
        # Built at render time, for the width the header really has (a resize, or a
        # first refresh before layout, must never push the clock off the line).
        now = cockpit_clock.now().astimezone()
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" cockpit ", style="bold reverse")
        text.append(f" ctx {self.context} ", style="bold")
        text.append(f"· ns {self.namespace} ")
        text.append(f" {self.mode} ", style=MODE_STYLE.get(self.mode, "bold"))
        if self.journal_problem:
            text.append(" NO JOURNAL: actions refused ", style="bold white on red")
        text.append(" ")
        mark = LEVEL_MARK[self.overall]
        text.append(f" {mark} {self.overall.label} ", style=OVERALL_STYLE[self.overall])
        if self.problems:
            text.append(" " + " · ".join(self.problems[:4]), style="bold")
        if self.note:
            text.append(f"  [{self.note}]", style="dim")
        # Minutes, not seconds: a clock that changes every second repaints every second.
        # A replay shows its moment to the second, marked as such.
        stamp = now.strftime(" %Y-%m-%d %H:%M %Z ")
        if cockpit_clock.replaying():
            stamp = now.strftime(" ⏵ REPLAY %Y-%m-%d %H:%M:%S %Z ")
        width = self.size.width
        # The clock always shows: the problems list gives way to it, not the other way.
        room = max(0, width - len(stamp))
        if text.cell_len > room:
            text.truncate(room, overflow="ellipsis")
        text.append(" " * max(0, room - text.cell_len))
        text.append(stamp, style="bold reverse" if cockpit_clock.replaying() else "bold")
        return text
