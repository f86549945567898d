"""The HTML of a report: one self-contained file (inline CSS, charts as data: URIs, no
script, nothing fetched).  Every piece of text goes through `e()` (html.escape after
the terminal-safety cleaning): names, messages, titles and keys are untrusted."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from cockpit.textsafe import one_line

CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;
background:#f4f5f7}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid
#d8dbe2;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.sub{color:#5b6475}.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:180px;flex:1;
border-left:6px solid #9aa3b5;box-shadow:0 1px 2px #0001}
.card b{display:block;font-size:22px}.ok{border-color:#2e9d4d}.warn{border-color:#e0a100}
.crit{border-color:#d2312d}.none{border-color:#9aa3b5}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0 12px;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e8ec;vertical-align:top}
th{background:#eceef2;font-weight:600}td.num,th.num{text-align:right;
font-variant-numeric:tabular-nums}
.tag{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;font-weight:600;
color:#fff;background:#9aa3b5}.tag.OK,.tag.met{background:#2e9d4d}.tag.WARN,.tag.HIGH,
.tag.MEDIUM{background:#e0a100}.tag.CRIT,.tag.CRITICAL,.tag.missed,.tag.STALE,.tag.Failed{
background:#d2312d}.tag.LOW,.tag.Complete{background:#5b8bd0}
.note{background:#fff8e1;border-left:4px solid #e0a100;padding:6px 10px;margin:6px 0}
img.chart{width:100%;background:#fff;border-radius:6px;margin:6px 0}
code{font-size:12px;background:#eceef2;padding:0 3px;border-radius:3px}
footer{color:#5b6475;font-size:12px;margin-top:32px}
"""


def e(text: object, limit: int = 2000) -> str:
    """Untrusted text as HTML text: controls made visible, then escaped."""
    return html.escape(one_line(str(text), limit), quote=True)


def when(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def tag(word: str, css: str | None = None) -> str:
    return f'<span class="tag {e(css or word)}">{e(word)}</span>'


def link(url: str, text: str) -> str:
    """A link only to http(s); anything else (javascript:, data:) stays text."""
    if url.startswith(("https://", "http://")):
        return f'<a href="{e(url)}" rel="noreferrer noopener">{e(text)}</a>'
    return e(text)


def table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int] = frozenset()
) -> str:
    """Cells are HTML already (built with e(), tag(), link()); headers are ours."""
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def card(title: str, value: str, words: str, css: str) -> str:
    return f'<div class="card {css}">{e(title)}<b>{e(value)}</b><span class="sub">{e(words)}</span></div>'  # noqa: E501


def chart(uri: str | None, alt: str) -> str:
    if uri is None:
        return f'<p class="sub">No data to draw for {e(alt)}.</p>'
    return f'<img class="chart" alt="{e(alt)}" src="{uri}">'


def notes(problems: Iterable[str]) -> str:
    return "".join(f'<div class="note">{e(p)}</div>' for p in problems)


def document(title: str, subtitle: str, body: str, generated: datetime) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
        f'<h1>{e(title)}</h1><div class="sub">{e(subtitle)}</div>{body}'
        f"<footer>Written by cockpit report at {e(when(generated))}.</footer>"
        "</main></body></html>\n"
    )
