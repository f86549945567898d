"""Small renderers shared by the panes: levels to styles, sizes, percentages, bars.

Everything returns `rich.text.Text` built from plain strings, never markup, so a pod
name or a query containing `[/]` is shown as it is.
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


def bytes_text(amount: float | None) -> str:
    """Binary units the way kubectl top prints memory (Mi) and people read disks."""
    if amount is None:
        return "-"
    value = float(amount)
    for unit in ("B", "Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024 or unit == "Ti":
            if unit == "B":
                return f"{int(value)}B"
            return f"{value:.0f}{unit}" if value >= 100 else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}Pi"


def millicores(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.1f}"
    return f"{value:.0f}m"


def pct(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}%"


def bar(fraction: float | None, width: int = 20) -> str:
    """A text bar: ███████░░░ (empty when unknown)."""
    if fraction is None:
        return "·" * width
    fraction = max(0.0, min(1.0, fraction))
    full = round(fraction * width)
    return "█" * full + "░" * (width - full)


def rate(value: float | None, unit: str = "/s") -> str:
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.1f}k{unit}"
    if value >= 10:
        return f"{value:.0f}{unit}"
    return f"{value:.1f}{unit}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = max(0.0, seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    return f"{int(seconds // 86400)}d{int(seconds % 86400 // 3600)}h"
