"""`cockpit check` lines for disk: one per pod mount (persistent volumes and `/`), or why
a pod could not be read."""

from __future__ import annotations

from cockpit.model import DiskSnapshot, Level
from cockpit.textsafe import one_line
from cockpit.units import size_words


def check_lines(snap: DiskSnapshot) -> list[tuple[Level, str]]:
    """(level, words): a line per mount with its use against the threshold."""
    if not snap.pods:
        return [(Level.OK, f"disk: {snap.message or 'no data pods to check'}")]
    lines: list[tuple[Level, str]] = []
    for pod in snap.pods:
        name = one_line(pod.pod, 80)
        if pod.error:
            hint = f" ({one_line(pod.hint, 160)})" if pod.hint else ""
            lines.append((pod.level, f"disk {name}: {one_line(pod.error, 200)}{hint}"))
            continue
        for m in pod.mounts:
            lines.append(
                (
                    m.level,
                    f"disk {name} {one_line(m.mount, 120)}: {m.percent:.0f}% used "
                    f"({size_words(m.used)} of {size_words(m.size)}, "
                    f"{size_words(m.avail)} free)",
                )
            )
    return lines
