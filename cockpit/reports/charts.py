"""Charts for the reports: matplotlib's object API on the Agg canvas (no pyplot, no
display, no network), each chart a PNG as a `data:` URI for an <img> in the HTML.

PNG rather than inline SVG: the untrusted names in legends (upstreams, pods) become
pixels, never markup, and charts cannot clash over element ids in one document.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import matplotlib

matplotlib.use("Agg")  # before anything draws: never a display, whatever the environment

from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

Point = tuple[float, float | None]
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf")


@dataclass(frozen=True, slots=True)
class Line:
    label: str  # untrusted: drawn as plain text
    points: Sequence[Point]
    step: bool = False  # a level that holds until the next point (readiness)


def plain(text: str, limit: int = 60) -> str:
    """A label matplotlib draws literally: `$` would start mathtext."""
    return text[:limit].replace("\\", "\\\\").replace("$", r"\$")


def line_chart(
    title: str,
    lines: Sequence[Line],
    unit: str,
    threshold: float | None = None,
    threshold_label: str = "",
    *,
    width: float = 9.0,
    height: float = 3.2,
) -> str | None:
    """A PNG data URI, or None when no line has a value to draw."""
    if not any(v is not None for line in lines for _, v in line.points):
        return None
    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, line in enumerate(lines):
        xs = [datetime.fromtimestamp(t, UTC) for t, _ in line.points]
        ys = [float("nan") if v is None else v for _, v in line.points]
        colour = COLOURS[i % len(COLOURS)]
        if line.step:
            ax.step(xs, ys, where="post", label=plain(line.label), color=colour, linewidth=1.4)
        else:
            marker = "o" if len(xs) < 30 else None
            ax.plot(
                xs,
                ys,
                label=plain(line.label),
                color=colour,
                linewidth=1.4,
                marker=marker,
                markersize=3,
            )
    if threshold is not None:
        ax.axhline(
            threshold,
            color="#555555",
            linestyle="--",
            linewidth=1,
            label=plain(threshold_label or f"threshold {threshold:g} {unit}"),
        )
    ax.set_title(plain(title, 120), fontsize=11, loc="left")
    ax.set_ylabel(plain(unit, 20))
    locator = mdates.AutoDateLocator(tz=UTC)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8, framealpha=0.8)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
