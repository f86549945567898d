"""`df -P -B1` output, parsed strictly: a header we know, then six fields per line with
whole numbers; anything else is an error, never a guess."""

from __future__ import annotations

from dataclasses import dataclass

DF_ARGV = ["df", "-P", "-B1"]


class DfError(ValueError):
    pass


@dataclass(frozen=True)
class DfRow:
    device: str
    size: int
    used: int
    avail: int
    percent: float
    mount: str


def parse_df(text: str) -> list[DfRow]:
    """Rows of `df -P -B1` (one per distinct mount, in order); DfError on anything odd."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise DfError("df printed nothing")
    head = lines[0].split()
    if head[:1] != ["Filesystem"] or len(head) < 6 or head[1] not in ("1-blocks", "1B-blocks"):
        raise DfError(f"df's header is not that of `df -P -B1`: {lines[0][:80]!r}")
    rows: list[DfRow] = []
    seen: set[str] = set()
    for line in lines[1:]:
        fields = line.split(None, 5)
        if len(fields) != 6:
            raise DfError(f"df line with {len(fields)} fields: {line[:80]!r}")
        device, size, used, avail, pct, mount = fields
        if not (size.isdigit() and used.isdigit() and avail.isdigit()):
            raise DfError(f"df line with a non-numeric size: {line[:80]!r}")
        if pct == "-":
            percent = 0.0
        elif pct.endswith("%") and pct[:-1].isdigit():
            percent = float(pct[:-1])
        else:
            raise DfError(f"df line with a bad percentage {pct!r}")
        if mount in seen:
            continue
        seen.add(mount)
        rows.append(DfRow(device, int(size), int(used), int(avail), percent, mount))
    return rows
