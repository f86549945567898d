"""Small renderers shared by the panes: levels to styles, text cells, bars.

Everything returns `rich.text.Text` built from plain strings, never markup, so a pod
name or a query containing `[/]` is shown as it is.  Durations, ages, sizes, rates and
percentages are written by cockpit.units.
"""

from __future__ import annotations

from rich.text import Text

from cockpit.model import Level
from cockpit.textsafe import clean

LEVEL_STYLE = {Level.OK: "", Level.WARN: "bold yellow", Level.CRIT: "bold red"}
LEVEL_MARK = {Level.OK: "●", Level.WARN: "▲", Level.CRIT: "✖"}


def plain(value: object, style: str = "") -> Text:
    """Untrusted text as a Text cell: controls neutralised, markup never parsed."""
    return Text(clean(str(value), 500), style=style, no_wrap=True, overflow="ellipsis")


def leveled(value: object, level: Level) -> Text:
    return plain(value, LEVEL_STYLE[level])


def bar(fraction: float | None, width: int = 20) -> str:
    """A text bar: ███████░░░ (empty when unknown)."""
    if fraction is None:
        return "·" * width
    fraction = max(0.0, min(1.0, fraction))
    full = round(fraction * width)
    return "█" * full + "░" * (width - full)
