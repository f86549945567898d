"""Textual's Footer, without two restyles per key each time it is composed.

A FooterKey starts compact (its watcher adds the `-compact` class: a restyle) and is
then bound to the footer's own, non-compact, setting (the class removed: another
restyle).  The main screen's footer has 28 keys: 57 restyles, about 40 ms of the first
screen.  Here each key starts with the footer's setting, so neither watcher runs; the
binding still follows later changes.  (FooterKey is not exported by
textual.widgets: imported from its module.)
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeyFooter(Footer):
    def compose(self) -> ComposeResult:
        for widget in super().compose():
            # The palette key is not bound to the footer's setting: it stays compact.
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget
