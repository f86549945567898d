"""An SloSnapshot in words: the pane's summary and `cockpit check`'s lines."""

from __future__ import annotations

from cockpit.model import BurnRate, Level, SloSnapshot, UpstreamSlo, WindowFigures
from cockpit.slo.figures import BURN_PAIRS


def ms_text(value: float | None) -> str:
    """A latency: "-", "45 ms", "2.9 s"."""
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.1f} s"


def pct_text(value: float | None) -> str:
    """An error share: "-", "0 %", "0.05 %", "6.2 %"."""
    if value is None:
        return "-"
    if value == 0:
        return "0 %"
    return f"{value:.2f} %" if value < 1 else f"{value:.1f} %"


def burn_text(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f}×" if value >= 100 else f"{value:.1f}×"


def burn_line(burn: BurnRate) -> str:
    """ "burn 1h/5m 16.2×/20.1× ≥14.4× PAGE" (the verdict only when firing)."""
    text = (
        f"burn {burn.long_window}/{burn.short_window} "
        f"{burn_text(burn.long_burn)}/{burn_text(burn.short_burn)} ≥{burn.factor:g}×"
    )
    if burn.firing:
        text += " " + next((p.name for p in BURN_PAIRS if p.factor == burn.factor), "FIRING")
    return text


def figures_text(w: WindowFigures) -> str:
    return (
        f"{w.rps:.1f} req/s, err {pct_text(w.error_pct)}, p50 {ms_text(w.p50_ms)}, "
        f"p95 {ms_text(w.p95_ms)}, p99 {ms_text(w.p99_ms)}"
    )


def _problems(up: UpstreamSlo) -> list[str]:
    """What is over its limit in the worse window of an upstream, in a few words."""
    w = max((up.one_minute, up.five_minutes), key=lambda f: f.level)
    words = []
    if w.error_level > Level.OK:
        words.append(f"err {pct_text(w.error_pct)}")
    worst_latency = max(
        (
            (w.p99_level, "p99", w.p99_ms),
            (w.p95_level, "p95", w.p95_ms),
            (w.p50_level, "p50", w.p50_ms),
        ),
        key=lambda item: item[0],
    )
    if worst_latency[0] > Level.OK:
        words.append(f"{worst_latency[1]} {ms_text(worst_latency[2])}")
    if w.rps_level > Level.OK:
        words.append(f"{w.rps:.1f} req/s")
    return words


def summary(snap: SloSnapshot) -> str:
    """A few words on what is wrong ("fastapi err 6.2 %, p99 2.9 s"), "" when nothing."""
    if snap.message and snap.level > Level.OK:
        return snap.message
    parts = []
    firing = [b for b in snap.burn if b.firing]
    # The worst named upstream's burn first: "all" dilutes it.
    for b in sorted(firing, key=lambda b: (-b.level, b.upstream == "all", -(b.short_burn or 0)))[
        :1
    ]:
        parts.append(f"{b.upstream} burn {burn_text(b.short_burn)}")
    named = [u for u in snap.upstreams if u.name != "all" and u.level > Level.OK]
    shown = named or [u for u in snap.upstreams if u.level > Level.OK]
    for up in sorted(shown, key=lambda u: -u.level)[:2]:
        words = _problems(up)
        if words:
            parts.append(f"{up.name} {', '.join(words)}")
    return "; ".join(parts)


def check_lines(snap: SloSnapshot) -> list[tuple[Level, str]]:
    """For `cockpit check`: each upstream's 5-minute figures, then the burn rates."""
    lines: list[tuple[Level, str]] = []
    if snap.message:
        lines.append((snap.message_level, snap.message))
    for up in snap.upstreams:
        w = up.five_minutes
        covered = "" if w.seconds >= 299 else f" (over {w.seconds:.0f} s)"
        lines.append((w.level, f"{up.name} 5m{covered}: {figures_text(w)}"))
    firing = [b for b in snap.burn if b.firing]
    for b in firing:
        lines.append((b.level, f"{b.upstream} {burn_line(b)}"))
    if snap.burn and not firing:
        overall = [b for b in snap.burn if b.upstream == "all"]
        text = ", ".join(burn_line(b) for b in overall)
        lines.append((Level.OK, f"error budget {snap.objective_pct:g} %: {text}, not firing"))
    if snap.dropped or snap.unparsed:
        lines.append(
            (Level.OK, f"{snap.lines} lines, {snap.unparsed} unparsed, {snap.dropped} dropped")
        )
    return lines
