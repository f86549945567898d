"""httpcore asks sniffio which event loop runs, for every lock and event it makes (several
per request to Prometheus or a health endpoint).  Without sniffio installed each ask is a
failed import that searches sys.path: it must be there (pyproject pins it)."""

from __future__ import annotations

import sys

from httpcore._synchronization import current_async_library


async def test_httpcore_finds_sniffio_in_the_loop() -> None:
    assert current_async_library() == "asyncio"
    assert sys.modules.get("sniffio") is not None  # imported, not a failed import each time
