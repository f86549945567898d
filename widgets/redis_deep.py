"""Redis deep views: memory breakdown, slow log, clients, and a big-keys sample.

The screen does no I/O itself: it is handed `feeds` (an object with async `memory()`,
`slowlog()`, `clients()`, `big_keys()` and `close()`, see DeepFeeds) and calls them in
workers, so a slow or dead server never blocks the UI.  The big-keys sample runs in its
own worker: each batch updates the progress, `x` (or leaving) cancels it.  Everything
the server says (key names, client names, command arguments, doctor's text) is shown
as Text, neutralised with textsafe.clean, never parsed as markup.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from rich.cells import cell_len, get_character_cell_size
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static, TabbedContent, TabPane

from cockpit import clock
from cockpit.errors import describe
from cockpit.model import (
    RedisBigKeyScan,
    RedisClientList,
    RedisMemoryReport,
    RedisSlowlog,
)
from cockpit.textsafe import clean
from cockpit.units import age_text, ago, bytes_text, duration_us
from widgets.cells import plain
from widgets.screens import KeysAfterMount
from widgets.table import KeyedTable

TABS = ("memory", "slowlog", "clients", "bigkeys")
# The KEY column's most cells: with #, TYPE and SIZE the row fits in 80 columns.
KEY_CELLS = 48
NOT_BYTES = ("count", "percentage", "ratio", "fragmentation", "keys", "startup")


class DeepFeeds(Protocol):
    server: str
    db: int

    async def memory(self) -> RedisMemoryReport: ...

    async def slowlog(self) -> RedisSlowlog: ...

    async def clients(self) -> RedisClientList: ...

    def big_keys(self) -> AsyncIterator[RedisBigKeyScan]: ...

    async def close(self) -> None: ...


def stat_value(name: str, value: str) -> Text:
    """A MEMORY STATS value, with a readable size next to byte counts."""
    shown = plain(value)
    if value.isdigit() and int(value) >= 1024 and not any(w in name for w in NOT_BYTES):
        shown.append(f"  ({bytes_text(int(value))})", style="dim")
    return shown


def problem(message: str) -> Text:
    return Text("⚠ " + clean(message, 400), style="bold yellow")


def memory_rows(report: RedisMemoryReport) -> list[tuple[str, tuple[Text, ...]]]:
    return [(name, (plain(name), stat_value(name, value))) for name, value in report.stats]


def doctor_text(report: RedisMemoryReport) -> Text:
    if report.doctor_error:
        return problem(report.doctor_error)
    text = Text("MEMORY DOCTOR\n", style="bold")
    for line in report.doctor.splitlines() or ["(no advice)"]:
        text.append(clean(line, 1000) + "\n")
    return text


def slowlog_rows(log: RedisSlowlog, now: datetime) -> list[tuple[str, tuple[Text, ...]]]:
    rows = []
    for e in log.entries:
        client = e.client_addr + (f" ({e.client_name})" if e.client_name else "")
        rows.append(
            (
                str(e.id),
                (
                    plain(e.id),
                    plain(ago(e.started, now)),
                    plain(duration_us(e.duration_us), "bold" if e.duration_us >= 10_000 else ""),
                    plain(client),
                    plain(" ".join(e.args)),
                ),
            )
        )
    return rows


def client_rows(found: RedisClientList) -> list[tuple[str, tuple[Text, ...]]]:
    return [
        (
            str(c.id),
            (
                plain(c.id),
                plain(c.addr),
                plain(c.name),
                plain(age_text(c.age_s)),
                plain(age_text(c.idle_s)),
                plain(c.db),
                plain(c.cmd),
                plain(c.flags),
                plain(c.user),
                plain(bytes_text(c.memory) if c.memory is not None else "-"),
            ),
        )
        for c in found.clients
    ]


def _fit(text: str, cells: int) -> str:
    """The longest start of `text` that takes at most `cells` cells."""
    used = 0
    for index, char in enumerate(text):
        used += get_character_cell_size(char)
        if used > cells:
            return text[:index]
    return text


def short_key(key: str, cells: int = KEY_CELLS) -> str:
    """`key`, made safe, in at most `cells` cells: its middle becomes "…".

    One 10,000-character key pushed TYPE and SIZE off every row.  The middle goes, not
    the end: keys share prefixes (`cache:user:`) and their ends tell them apart.
    """
    text = clean(key, len(key))
    if cell_len(text) <= cells:
        return text
    keep = cells - 1
    return _fit(text, keep - keep // 2) + "…" + _fit(text[::-1], keep // 2)[::-1]


def bigkey_rows(scan: RedisBigKeyScan) -> list[tuple[str, tuple[Text, ...]]]:
    return [
        (
            f"k{rank}",
            (
                plain(rank),
                plain(short_key(k.key), "bold" if rank <= 3 else ""),
                plain(k.type),
                plain(bytes_text(k.size)),
            ),
        )
        for rank, k in enumerate(scan.top, start=1)
    ]


def scan_status(scan: RedisBigKeyScan) -> Text:
    of = f" of {scan.dbsize:,}" if scan.dbsize else ""
    text = Text(f"db{scan.db}: {scan.scanned:,}{of} keys scanned in {scan.batches} batches, ")
    text.append(f"{scan.elapsed_s:.1f} s · {bytes_text(scan.sized_bytes)} sized · ")
    style = {"running": "bold cyan", "cancelled": "bold yellow", "failed": "bold red"}
    text.append(scan.state, style=style.get(scan.state, "bold green"))
    if scan.message:
        text.append(" — " + clean(scan.message, 300))
    return text


class RedisDeepScreen(KeysAfterMount, Screen[None]):
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("r", "reload", "Reload"),
        Binding("s", "scan", "Sample big keys"),
        Binding("x", "cancel_scan", "Stop sample"),
        *(Binding(str(n), f"show_tab({n})", show=False) for n in range(1, 5)),
    ]
    DEFAULT_CSS = """
    RedisDeepScreen .deep-problem { height: auto; }
    RedisDeepScreen #deep-title { height: 1; padding: 0 1; }
    RedisDeepScreen #deep-tabs { height: 1fr; }
    RedisDeepScreen #deep-tabs > ContentSwitcher { height: 1fr; }
    RedisDeepScreen TabPane { height: 1fr; padding: 0; }
    RedisDeepScreen #doctor { height: auto; max-height: 40%; padding: 0 1;
        border: round $accent; }
    RedisDeepScreen #bigkeys-status { height: auto; }
    RedisDeepScreen KeyedTable { height: 1fr; }
    """

    def __init__(
        self,
        feeds: DeepFeeds,
        memory: RedisMemoryReport | None = None,
        slowlog: RedisSlowlog | None = None,
        clients: RedisClientList | None = None,
        budget_text: str = "",
    ) -> None:
        super().__init__()
        self.feeds = feeds
        self.memory = memory
        self.slowlog = slowlog
        self.clients = clients
        self.scan: RedisBigKeyScan | None = None
        self.budget_text = budget_text
        self._stop_scan = False  # `x`: the sample stops at its next batch at the latest

    def compose(self) -> ComposeResult:
        title = Text(f"Redis {clean(self.feeds.server, 80)} · deep views", style="bold")
        title.append("   1 memory · 2 slowlog · 3 clients · 4 big keys", style="dim")
        yield Static(title, id="deep-title", markup=False)
        with TabbedContent(id="deep-tabs"):
            with TabPane("Memory", id="memory"):
                yield Static("", id="memory-problem", classes="deep-problem", markup=False)
                yield Static("", id="doctor", markup=False)
                yield KeyedTable((("name", "STAT"), ("value", "VALUE")), id="memory-table")
            with TabPane("Slowlog", id="slowlog"):
                yield Static("", id="slowlog-problem", classes="deep-problem", markup=False)
                yield KeyedTable(
                    (
                        ("id", "ID"),
                        ("when", "WHEN"),
                        ("took", "DURATION"),
                        ("client", "CLIENT"),
                        ("cmd", "COMMAND"),
                    ),
                    id="slowlog-table",
                )
            with TabPane("Clients", id="clients"):
                yield Static("", id="clients-problem", classes="deep-problem", markup=False)
                yield KeyedTable(
                    (
                        ("id", "ID"),
                        ("addr", "ADDR"),
                        ("name", "NAME"),
                        ("age", "AGE"),
                        ("idle", "IDLE"),
                        ("db", "DB"),
                        ("cmd", "CMD"),
                        ("flags", "FLAGS"),
                        ("user", "USER"),
                        ("mem", "MEM"),
                    ),
                    id="clients-table",
                )
            with TabPane("Big keys", id="bigkeys"):
                yield Static(
                    Text(
                        f"press s to sample db{self.feeds.db} with SCAN in small batches"
                        + (f" ({self.budget_text})" if self.budget_text else "")
                        + "; x stops it"
                    ),
                    id="bigkeys-status",
                    markup=False,
                )
                yield ProgressBar(id="bigkeys-progress", show_eta=False)
                yield KeyedTable(
                    (("rank", "#"), ("key", "KEY"), ("type", "TYPE"), ("size", "SIZE")),
                    id="bigkeys-table",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self._show_all)

    def _show_all(self) -> None:
        if self.memory is not None:
            self.show_memory(self.memory)
        if self.slowlog is not None:
            self.show_slowlog(self.slowlog)
        if self.clients is not None:
            self.show_clients(self.clients)

    # -- rendering ----------------------------------------------------------------------

    def _problem(self, selector: str, message: str) -> None:
        widget = self.query_one(selector, Static)
        widget.update(problem(message) if message else Text(""))
        widget.display = bool(message)

    def show_memory(self, report: RedisMemoryReport) -> None:
        self.memory = report
        self._problem("#memory-problem", report.stats_error)
        self.query_one("#doctor", Static).update(doctor_text(report))
        self.query_one("#memory-table", KeyedTable).apply(memory_rows(report))

    def show_slowlog(self, log: RedisSlowlog) -> None:
        self.slowlog = log
        message = log.error or (
            "" if log.entries else "the slow log is empty (slowlog-log-slower-than)"
        )
        self._problem("#slowlog-problem", message)
        self.query_one("#slowlog-table", KeyedTable).apply(slowlog_rows(log, clock.now()))

    def show_clients(self, found: RedisClientList) -> None:
        self.clients = found
        self._problem("#clients-problem", found.error)
        self.query_one("#clients-table", KeyedTable).apply(client_rows(found))

    def show_scan(self, scan: RedisBigKeyScan) -> None:
        self.scan = scan
        self.query_one("#bigkeys-status", Static).update(scan_status(scan))
        bar = self.query_one("#bigkeys-progress", ProgressBar)
        fraction = scan.fraction
        if scan.done:
            bar.update(total=100, progress=100 if scan.state == "complete" else bar.progress)
        elif fraction is not None:
            bar.update(total=100, progress=round(fraction * 100))
        self.query_one("#bigkeys-table", KeyedTable).apply(bigkey_rows(scan))

    # -- keys -----------------------------------------------------------------------------

    def action_close(self) -> None:
        self.dismiss()

    def action_show_tab(self, number: int) -> None:
        self.query_one(TabbedContent).active = TABS[number - 1]

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def action_reload(self) -> None:
        if self.active_tab == "bigkeys":
            self.action_scan()
        else:
            self._reload(self.active_tab)

    @work(group="redis-deep-reload", exclusive=True)
    async def _reload(self, tab: str) -> None:
        try:
            if tab == "memory":
                self.show_memory(await self.feeds.memory())
            elif tab == "slowlog":
                self.show_slowlog(await self.feeds.slowlog())
            elif tab == "clients":
                self.show_clients(await self.feeds.clients())
        except Exception as exc:
            self.notify(describe(exc)[0], severity="error", markup=False)

    def action_scan(self) -> None:
        self.query_one(TabbedContent).active = "bigkeys"
        self._scan()

    def action_cancel_scan(self) -> None:
        # Cancelling the task alone can be lost: asyncio.wait_for in Python 3.11 (used
        # by the Redis client) drops a cancel that lands as its inner call completes,
        # and the sample then ran to its end (seen once in CI).  The flag stops it at
        # the next batch whatever the client did with the cancel.
        self._stop_scan = True
        self.workers.cancel_group(self, "redis-bigkeys")

    @property
    def scanning(self) -> bool:
        return any(w.group == "redis-bigkeys" and not w.is_finished for w in self.workers)

    @work(group="redis-bigkeys", exclusive=True)
    async def _scan(self) -> None:
        self._stop_scan = False
        try:
            async with contextlib.aclosing(self.feeds.big_keys()) as progresses:
                async for progress in progresses:
                    if self._stop_scan:  # `x` pressed, its cancel lost on the way
                        raise asyncio.CancelledError
                    self.show_scan(progress)
        except asyncio.CancelledError:
            if self.scan is not None and self.is_attached:
                self.show_scan(replace(self.scan, state="cancelled", message="stopped (x)"))
            raise
        except Exception as exc:
            message = describe(exc)[0]
            if self.scan is not None:
                self.show_scan(replace(self.scan, state="failed", message=message))
            else:
                self.query_one("#bigkeys-status", Static).update(problem(message))

    async def on_unmount(self) -> None:
        self.workers.cancel_node(self)
        await self.feeds.close()
