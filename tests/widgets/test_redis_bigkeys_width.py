"""The big-keys view with a 10,000-character key: TYPE and SIZE stay on screen."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from rich.cells import cell_len

from cockpit.model import RedisBigKey, RedisBigKeyScan
from tests.screen_app import ScreenApp
from widgets.redis_deep import KEY_CELLS, RedisDeepScreen, short_key
from widgets.table import KeyedTable

HUGE = "session:" + "x" * 10_000 + ":end"
TOP = (
    RedisBigKey(HUGE, "string", 5_300_000),
    RedisBigKey("queue:mail", "list", 2048),
    RedisBigKey("[bold]boom[/]", "hash", 900),
)


class Feeds:
    """Only the big-keys sample: one finished scan."""

    server = "127.0.0.1:6379"
    db = 0

    async def memory(self) -> None:
        raise RuntimeError("not in this test")

    slowlog = clients = memory

    async def big_keys(self) -> AsyncIterator[RedisBigKeyScan]:
        yield RedisBigKeyScan(0, 3, 3, 1, 0.1, TOP, "complete")

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("width", [80, 120])
async def test_type_and_size_stay_visible_beside_a_huge_key(width: int) -> None:
    screen = RedisDeepScreen(Feeds())  # type: ignore[arg-type]
    app = ScreenApp(screen)
    async with app.run_test(size=(width, 24)) as pilot:
        await pilot.pause()
        await pilot.press("s")
        for _ in range(100):
            if screen.scan is not None:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.1)
        table = screen.query_one("#bigkeys-table", KeyedTable)
        assert table.region.right <= width
        lines = [table.render_line(y).text for y in range(1, 4)]  # line 0 is the header
    huge, mail, hostile = lines
    assert "string" in huge and "5.1Mi" in huge
    assert "session:xxx" in huge and "…" in huge and "x:end" in huge
    assert "list" in mail and "2.0Ki" in mail
    assert "[bold]boom[/]" in hostile and "hash" in hostile and "900B" in hostile


def test_short_key_keeps_both_ends_within_its_cells() -> None:
    assert short_key("queue:mail") == "queue:mail"
    cut = short_key(HUGE)
    assert cell_len(cut) == KEY_CELLS and cut.startswith("session:") and cut.endswith(":end")
    wide = short_key("キー" * 100, 11)  # two cells a character
    assert cell_len(wide) <= 11 and "…" in wide
    assert short_key("a\x1bb" * 40, 12).count("␛") >= 2  # made safe before it is cut
