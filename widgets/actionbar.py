"""Running actions, just above the footer: a progress bar each, then the outcome.

It never blocks the panes: the person keeps watching the pods roll while the bar says
how far the rollout got.  Finished rows stay for a while so the outcome can be read.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import ProgressBar, Static

from cockpit.textsafe import one_line

KEEP_FINISHED_S = 20.0


class ActionRow(Horizontal):
    DEFAULT_CSS = """
    ActionRow { height: 1; }
    ActionRow .action-title { width: 40; }
    ActionRow ProgressBar { width: 32; }
    ActionRow .action-text { width: 1fr; }
    ActionRow.ok .action-text { color: $success; }
    ActionRow.failed .action-text { color: $error; text-style: bold; }
    """

    def __init__(self, key: str, title: str) -> None:
        super().__init__(classes="action-row")
        self.key = key
        self.title = title
        self._state: tuple[float | None, str] = (None, "starting")
        self._outcome: tuple[bool, str] | None = None

    def on_mount(self) -> None:
        # Progress or an outcome may arrive before the row was mounted: show it now.
        self._show()

    def compose(self) -> ComposeResult:
        yield Static(
            Text("▶ " + one_line(self.title, 38), style="bold"),
            classes="action-title",
            markup=False,
        )
        yield ProgressBar(total=None, show_eta=False, show_percentage=True)
        yield Static("", classes="action-text", markup=False)

    def progress(self, fraction: float | None, text: str) -> None:
        self._state = (fraction, text)
        self._show()

    def finish(self, ok: bool, message: str) -> None:
        self._outcome = (ok, message)
        self.add_class("ok" if ok else "failed")
        self._show()

    def _show(self) -> None:
        # While the app shuts down, children go before their parent: either may be gone.
        bars, labels = self.query(ProgressBar), self.query(".action-text")
        if not self.is_mounted or not bars or not labels:
            return
        bar, label = bars.first(ProgressBar), labels.first(Static)
        if self._outcome is not None:
            ok, message = self._outcome
            bar.update(total=100, progress=100 if ok else bar.progress)
            label.update(Text(("✔ " if ok else "✖ ") + one_line(message, 300)))
            return
        fraction, text = self._state
        if fraction is None:
            bar.update(total=None)
        else:
            bar.update(total=100, progress=round(100 * max(0.0, min(1.0, fraction))))
        label.update(Text(one_line(text, 200)))


class ActionBar(Vertical):
    DEFAULT_CSS = """
    ActionBar { height: auto; max-height: 6; background: $panel; }
    ActionBar:empty { display: none; }
    """

    def row(self, key: str) -> ActionRow | None:
        for row in self.query(ActionRow):
            if row.key == key:
                return row
        return None

    def start(self, key: str, title: str) -> ActionRow:
        old = self.row(key)
        if old is not None:
            old.remove()
        row = ActionRow(key, title)
        self.mount(row)
        return row

    def finish(self, key: str, ok: bool, message: str) -> None:
        row = self.row(key)
        if row is None:
            return
        row.finish(ok, message)
        self.set_timer(KEEP_FINISHED_S, row.remove)

    def compose(self) -> ComposeResult:
        return iter(())
