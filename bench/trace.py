"""Where the cockpit's time goes: timing wrappers installed by `run_cockpit --trace`.

Diagnostic only (the timed benchmark runs never install them): each wrapped function
appends `call <t> <name> <ms> <detail>` to $COCKPIT_BENCH_MARKS, and every event-loop
callback slower than SLOW_MS is recorded as `slow <t> <ms> (cpu <ms>) <what>` (wall
time, then the loop thread's own CPU time in it), the way asyncio's
debug mode reports slow callbacks but without its other costs.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import importlib.abc
import inspect
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from cockpit.marks import mark_line

SLOW_MS = 50.0
WATCH_AFTER_S = 0.03  # into a callback, where the loop thread stands is sampled
WHERE_DEPTH = 6
MAX_CALL_MARKS = 400  # per wrapped function: the start-up is what we want to see
FLUSH_EVERY_S = 0.2  # the marks kept in memory are written this often

_pending: list[str] = []
_flushing = threading.Lock()


def mark(event: str, detail: object = "") -> None:
    """A mark kept in memory and written by a thread of its own: opening and appending
    to the file on the loop thread let the GIL go at each call, and under start-up's
    contention taking it back cost the loop up to 100 ms (seen by the watchdog below)."""
    _pending.append(mark_line(event, time.time(), detail))


def _write_pending() -> None:
    path = os.environ.get("COCKPIT_BENCH_MARKS")
    with _flushing:
        lines = _pending[:]
        del _pending[: len(lines)]
        if path and lines:
            with open(path, "a", encoding="utf-8") as handle:
                handle.writelines(lines)


def _flush_marks() -> None:
    while True:
        time.sleep(FLUSH_EVERY_S)
        _write_pending()


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls functions on a module right after it is first imported, so that the trace
    imports nothing before the cockpit would: the `kubernetes` client and pydantic load
    after the first paint, in threads, and a trace importing them at start-up measured
    another start-up."""

    def __init__(self) -> None:
        self.waiting: dict[str, list[Callable[[ModuleType], None]]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        callbacks = self.waiting.pop(fullname, None)
        spec = self._others_spec(fullname, path, target) if callbacks else None
        if callbacks is None or spec is None or spec.loader is None:
            return None
        run_module = spec.loader.exec_module  # a loader of this module alone

        def exec_module(module: ModuleType) -> None:
            run_module(module)
            for callback in callbacks:
                callback(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec

    def _others_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None
    ) -> Any:
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if finder is not self and find else None
            if spec is not None:
                return spec
        return None


_after_import = _AfterImport()


def when_imported(name: str, callback: Callable[[ModuleType], None]) -> None:
    """`callback(module)` now if `name` is imported, else right after its import."""
    if name in sys.modules:
        callback(sys.modules[name])
        return
    if _after_import not in sys.meta_path:
        sys.meta_path.insert(0, _after_import)
    _after_import.waiting.setdefault(name, []).append(callback)


def _wrap(owner: Any, attr: str, name: str, detail: Callable[..., str] | None = None) -> None:
    original = getattr(owner, attr)
    count = 0

    def record(started: float, args: tuple[Any, ...]) -> None:
        nonlocal count
        count += 1
        if count <= MAX_CALL_MARKS:
            ms = (time.perf_counter() - started) * 1000
            extra = detail(*args) if detail is not None else ""
            mark("call", f"{name} {ms:.1f} {extra}".rstrip())

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                record(started, args)

        setattr(owner, attr, async_wrapper)
    else:

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                record(started, args)

        setattr(owner, attr, wrapper)


def _slow_callbacks() -> None:
    """Record every event-loop callback that holds the loop longer than SLOW_MS, and
    where the loop thread stood WATCH_AFTER_S into it (sampled by a watchdog thread):
    what it was doing, or, for one mostly off its CPU, what it waited for."""
    run = asyncio.events.Handle._run
    loop_thread = threading.get_ident()
    current: list[Any] = [0.0, ""]  # the running callback's start, where it stood

    def timed_run(self: asyncio.events.Handle) -> None:
        started, cpu = time.perf_counter(), time.thread_time()
        current[:] = [started, ""]
        run(self)
        current[0] = 0.0
        ms = (time.perf_counter() - started) * 1000
        if ms > SLOW_MS:
            what = repr(getattr(self, "_callback", self))
            task = getattr(getattr(self, "_callback", None), "__self__", None)
            if isinstance(task, asyncio.Task):
                what = task.get_coro().__qualname__  # type: ignore[union-attr]
                what += _timer_callback(task)
                if task.get_name().startswith("worker "):
                    what += task.get_name()[6:]
            # The loop thread's own CPU in that time: the rest it waited (for the GIL,
            # held by a background thread, for a core, or blocked: then `stood` says on what).
            cpu_ms = (time.thread_time() - cpu) * 1000
            stood = f" | stood at {current[1]}" if current[1] else ""
            mark("slow", f"{ms:.0f} (cpu {cpu_ms:.0f}) {what[:120]}{stood}")

    def watch() -> None:
        while True:
            time.sleep(0.01)
            started = current[0]
            if started and not current[1] and time.perf_counter() - started > WATCH_AFTER_S:
                frame = sys._current_frames().get(loop_thread)
                current[1] = _where(frame)

    asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
    threading.Thread(target=watch, name="trace-watchdog", daemon=True).start()


def _where(frame: Any) -> str:
    """The innermost frames of a stack, innermost first."""
    parts = []
    while frame is not None and len(parts) < WHERE_DEPTH:
        code = frame.f_code
        parts.append(f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return " < ".join(parts)


def _timer_callback(task: asyncio.Task[Any]) -> str:
    """For a Textual timer's or worker's task, " <its callback>": which one held the loop."""
    frame = getattr(task.get_coro(), "cr_frame", None)
    timer = frame.f_locals.get("self") if frame is not None else None
    callback = getattr(timer, "_callback", None) or getattr(timer, "_work", None)
    if callback is None:
        return ""
    return " " + getattr(callback, "__qualname__", repr(callback))


def _named_workers() -> None:
    """Name each Textual worker's task after its work, for the `slow` marks (a worker
    that finishes in its slow step has no frame left to read)."""
    from textual.worker import Worker

    run = Worker._run

    async def named_run(self: Worker[Any], app: Any) -> None:
        task = asyncio.current_task()
        if task is not None:
            work = getattr(self, "_work", None)
            task.set_name(f"worker {self.name or getattr(work, '__qualname__', work)}")
        await run(self, app)

    Worker._run = named_run  # type: ignore[method-assign]


def _slow_messages() -> None:
    """Record every message whose handling (one widget's) took longer than SLOW_MS, as
    `slow_message <t> <ms> <widget> <message>`: a slow `_process_messages` callback says
    which loop turn was slow, this says what it was doing."""
    from textual.message_pump import MessagePump

    dispatch = MessagePump._dispatch_message

    async def timed_dispatch(self: MessagePump, message: Any) -> None:
        started = time.perf_counter()
        try:
            await dispatch(self, message)
        finally:
            ms = (time.perf_counter() - started) * 1000
            if ms > SLOW_MS:
                what = f"{type(message).__name__} {getattr(message, 'source', '')}".rstrip()
                mark("slow_message", f"{ms:.0f} {type(self).__name__} {what}")

    MessagePump._dispatch_message = timed_dispatch  # type: ignore[method-assign]


def _layout_requests() -> None:
    """Count who asks for a full layout (`refresh(layout=True)`), by widget and caller."""
    import atexit
    import sys
    from collections import Counter

    from textual.widget import Widget

    counts: Counter[str] = Counter()
    refresh = Widget.refresh

    def counting_refresh(self: Widget, *regions: Any, **kwargs: Any) -> Any:
        if kwargs.get("layout") or kwargs.get("recompose"):
            frame = sys._getframe(1)
            caller = f"{frame.f_code.co_qualname}:{frame.f_lineno}"
            counts[f"{type(self).__name__}<-{caller}"] += 1
        return refresh(self, *regions, **kwargs)

    Widget.refresh = counting_refresh  # type: ignore[method-assign]

    def dump() -> None:
        for what, n in counts.most_common(25):
            mark("layout", f"{n} {what}")

    atexit.register(dump)


def install() -> None:
    from textual.screen import Screen
    from textual.widgets import DataTable

    import cockpit.app as app_module
    import cockpit.startup as startup_module
    from cockpit import gctuning
    from cockpit.main_screen import MainScreen
    from widgets.errorlog import ErrorLogPane
    from widgets.pods import PodsPane
    from widgets.table import KeyedTable
    from widgets.vtable import VirtualTable

    threading.Thread(target=_flush_marks, name="trace-marks", daemon=True).start()
    atexit.register(_write_pending)
    _slow_callbacks()
    _named_workers()
    _slow_messages()
    _layout_requests()
    # These import the kubernetes client and pydantic: wrapped when the cockpit imports them.
    when_imported("cockpit.sources.kube.client", lambda m: _wrap(m, "connect", "kube_connect"))
    when_imported(
        "cockpit.sources.kube.watch",
        lambda m: _wrap(m.Informer, "_list", "Informer._list", lambda self: self.name),
    )
    when_imported("cockpit.sources.kube.source", _wrap_kube_source)
    _wrap(gctuning, "settle", "gctuning.settle")
    _wrap(startup_module.Sources, "start_local", "Sources.start_local")
    _wrap(startup_module.Sources, "_start_after_first_pods", "Sources._start_after_first_pods")
    _wrap(PodsPane, "render_rows", "PodsPane.render_rows")
    _wrap(KeyedTable, "apply", "KeyedTable.apply", lambda self, rows: f"{len(rows)} rows")
    _wrap(VirtualTable, "apply", "VirtualTable.apply", lambda self, rows, *_: f"{len(rows)} rows")
    _wrap(
        DataTable,
        "_update_column_widths",
        "DataTable._update_column_widths",
        lambda self, cells: f"{len(cells)} cells",
    )
    _wrap(
        DataTable,
        "_update_dimensions",
        "DataTable._update_dimensions",
        lambda self, rows: f"{len(list(rows)) if isinstance(rows, set | list) else '?'} rows",
    )
    _wrap(DataTable, "sort", "DataTable.sort")
    _wrap(Screen, "_on_timer_update", "Screen._on_timer_update")
    _wrap(Screen, "_refresh_layout", "Screen._refresh_layout")
    _wrap(MainScreen, "_tick", "MainScreen._tick")
    _wrap(app_module.CockpitApp, "update_overall", "CockpitApp.update_overall")
    _wrap(ErrorLogPane, "show", "ErrorLogPane.show", lambda self, b: f"{len(b.lines)} lines")


def _wrap_kube_source(module: ModuleType) -> None:
    for attr in ("__init__", "kube_snapshot", "top_snapshot"):
        _wrap(module.KubeSource, attr, f"KubeSource.{attr}")
