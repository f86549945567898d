"""A streamed response (a log, a watch) cut into lines, in linear time and bounded memory.

The kubernetes client's `iter_resp_lines` copies the rest of its buffer after every
line: quadratic in the lines per chunk, and each copy holds the GIL.  Reading a pod's
24 h of history that way, the log streams held the GIL for a quarter of the first
seconds, and the event loop waited (start-up stalls).  Same output for lines up to
`max_pending` bytes: one str per line (invalid UTF-8 replaced), an unterminated last
line dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

MAX_PENDING = 1 << 20  # bytes kept of a line without a newline (longer is not parsed)


def resp_lines(response: Any, max_pending: int = MAX_PENDING) -> Iterator[str]:
    pending = b""
    for chunk in response.stream(amt=None, decode_content=False):
        if not chunk:
            continue
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        data = pending + chunk if pending else chunk
        parts = data.split(b"\n")
        pending = parts.pop()
        if len(pending) > max_pending:
            pending = pending[:max_pending]
        for part in parts:
            yield part.decode("utf-8", "replace")
