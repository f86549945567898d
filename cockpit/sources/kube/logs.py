"""Following pod logs: the error feed of the configured apps, and one pod's full log.

Each followed container is one thread holding one streaming request (the blocking
client cannot multiplex).  Threads append to bounded deques under a lock; the event
loop drains them in batches, so ingest rate never turns into a message per line and
memory stays flat however long the cockpit runs.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import urllib3

from cockpit import uipriority
from cockpit.config import Threshold, Thresholds
from cockpit.model import LogBatch, LogLine, PodRow, rate_of
from cockpit.sources.kube.client import kube_error
from cockpit.sources.kube.convert import parse_time
from cockpit.sources.kube.lines import resp_lines
from cockpit.textsafe import clean
from cockpit.thresholds import level_for

# A follow stream that stays silent this long is reopened (from its last timestamp):
# the client needs a finite read timeout, and a quiet pod is not an error.
FOLLOW_READ_TIMEOUT_S = 300.0
QUICK_END_MAX_S = 16.0  # the longest wait to follow a container again that has nothing running
MINUTES_SHOWN = 60
MINUTES_KEPT = 24 * 60
LINE_MAX_CHARS = 4096
COURTESY_EVERY = 20  # lines between looks at the loop's foreground work (uipriority)


def split_timestamp(line: str) -> tuple[datetime | None, str]:
    """kubelet's `timestamps=true` prefix: "2026-11-28T02:13:01.123456789Z text"."""
    head, sep, rest = line.partition(" ")
    if sep and head[:4].isdigit() and "T" in head:
        ts = parse_time(head)
        if ts is not None:
            return ts, rest
    return None, line


def _read_timeout(exc: BaseException) -> bool:
    """urllib3 wraps a read timeout mid-stream in ProtocolError; both are quiet ends."""
    return isinstance(exc, urllib3.exceptions.ProtocolError) and "timed out" in str(exc).lower()


class _Stream:
    """One container's log, read on a thread until stopped or the stream ends."""

    def __init__(
        self,
        open_stream: Callable[..., Any],
        on_line: Callable[[Any, str], None],
        on_end: Callable[[_Stream, BaseException | None], None],
        *,
        split: Callable[[str], tuple[Any, str]] = split_timestamp,
        lines: Callable[[Any], Iterable[str]] = resp_lines,
    ) -> None:
        # split/lines: how a line's time is read and how the response is cut into
        # lines; the SLO follower passes a faster split (cockpit/sources/traffic/).
        self._open = open_stream
        self._on_line = on_line
        self._on_end = on_end
        self._split = split
        self._lines = lines
        self._stop = threading.Event()
        self._response: Any = None
        self.thread = threading.Thread(target=self._run, daemon=True, name="log-stream")

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            for method in ("shutdown", "close"):
                try:
                    getattr(response, method)()
                except Exception:
                    pass

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        error: BaseException | None = None
        try:
            self._response = self._open()
            if self._stop.is_set():
                self.stop()
            for raw in uipriority.stepping_aside(self._lines(self._response), COURTESY_EVERY):
                if self._stop.is_set():
                    break
                ts, text = self._split(raw)
                self._on_line(ts, text)
        except Exception as exc:
            if not self._stop.is_set():
                error = exc
        finally:
            if self._response is not None:
                try:
                    self._response.release_conn()
                except Exception:
                    pass
            self._on_end(self, error)


class ErrorLogFollower:
    """The lines matching the error pattern from every pod of the configured apps."""

    def __init__(
        self,
        open_log: Callable[..., Any],  # (pod name, **raw.pod_log options) -> response
        apps: Iterable[str],
        pattern: str,
        window: timedelta,
        max_lines: int,
        max_streams: int,
        request_timeout: float = 10.0,
        server: str = "",
        threshold: Threshold | None = None,  # error lines per minute; the runbook's default
    ) -> None:
        self._threshold = threshold or Thresholds().error_lines_per_min
        self._open_log = open_log
        self._apps = frozenset(apps)
        self.pattern = re.compile(pattern)
        self._window = window
        self._max_streams = max_streams
        self._timeout = request_timeout
        self._server = server
        self._lock = threading.Lock()
        self._lines: deque[LogLine] = deque(maxlen=max_lines)
        self._seq = 0
        self._delivered = 0
        self._per_minute: dict[int, int] = {}
        self._streams: dict[tuple[str, str, bool], _Stream] = {}  # (uid, container, previous)
        self._last_ts: dict[tuple[str, str], datetime] = {}
        self._pods: dict[str, PodRow] = {}
        self._previous_read: set[tuple[str, str, int]] = set()
        self._backlog_pending: set[tuple[str, str]] = set()
        self._problems: dict[tuple[str, str], str] = {}
        self._retry_after: dict[tuple[str, str], float] = {}
        # Follows that ended at once, in a row (a container that is not running): each
        # waits twice as long before the next, up to QUICK_END_MAX_S.
        self._quick_ends: dict[tuple[str, str], int] = {}
        self._opened: dict[tuple[str, str, bool], float] = {}
        self._capped = 0
        self._chosen_version = -1  # the pods' version the choice was made from
        self._closed = False
        self.ingested = 0  # every line read, matching or not (for benchmarks)

    # -- which pods to follow -------------------------------------------------------------

    def sync(
        self, pods: Iterable[PodRow] | Callable[[], Iterable[PodRow]], version: int = -1
    ) -> None:
        """Start streams for new pods of the apps, stop those of pods that are gone,
        restart those that ended.  `version` (the pods informer's, which bumps on every
        change): when it is the last call's, the pods are the same and the choice is
        kept; `pods` may then be a callable, not called (every second, the choice
        scanned all 5,000 pods of the large scenario on the event loop)."""
        if self._closed:
            return
        if version < 0 or version != self._chosen_version:
            self._choose(pods() if callable(pods) else pods)
            self._chosen_version = version
        now = time.monotonic()
        with self._lock:
            chosen = list(self._pods.values())
        for pod in chosen:
            for container in pod.containers:
                self._ensure_current(pod, container.name, now)
                if container.restarts > 0:
                    self._ensure_previous(pod, container.name, container.restarts)

    def _choose(self, pods: Iterable[PodRow]) -> None:
        wanted = [p for p in pods if p.app in self._apps]
        # Broken pods first: when there are more pods than streams, they matter most.
        wanted.sort(key=lambda p: (-p.level, p.name))
        chosen = wanted[: self._max_streams]
        self._capped = len(wanted) - len(chosen)
        chosen_uids = {p.uid for p in chosen}
        with self._lock:
            self._pods = {p.uid: p for p in chosen}
            stale = [key for key in self._streams if key[0] not in chosen_uids]
        for key in stale:
            self._stop_stream(key)

    def _ensure_current(self, pod: PodRow, container: str, now: float) -> None:
        key = (pod.uid, container, False)
        with self._lock:
            if key in self._streams or now < self._retry_after.get((pod.uid, container), 0):
                return
        last = self._last_ts.get((pod.uid, container))
        kwargs: dict[str, Any] = {"follow": True}
        if last is not None:
            # The python client has no sinceTime: ask a little further back and drop
            # what was already seen (by timestamp) in _ingest.
            behind = (datetime.now(UTC) - last).total_seconds()
            kwargs["since_seconds"] = max(1, int(behind) + 2)
        else:
            kwargs["since_seconds"] = int(self._window.total_seconds())
            with self._lock:
                self._backlog_pending.add((pod.uid, container))
        self._start(key, pod, container, kwargs)

    def _ensure_previous(self, pod: PodRow, container: str, restarts: int) -> None:
        """The previous container's errors: why a crash-looping pod died."""
        marker = (pod.uid, container, restarts)
        if marker in self._previous_read:
            return
        self._previous_read.add(marker)
        key = (pod.uid, container, True)
        if key in self._streams:
            return
        self._start(
            key,
            pod,
            container,
            {"previous": True, "since_seconds": int(self._window.total_seconds())},
        )

    def _start(
        self, key: tuple[str, str, bool], pod: PodRow, container: str, kwargs: dict[str, Any]
    ) -> None:
        previous = key[2]
        label = f"{container} (previous)" if previous else container

        def open_stream() -> Any:
            return self._open_log(
                pod.name,
                container=container,
                timestamps=True,
                timeout=(self._timeout, FOLLOW_READ_TIMEOUT_S),
                **kwargs,
            )

        def on_line(ts: datetime | None, text: str) -> None:
            self._ingest(pod, container, label, previous, ts, text)

        def on_end(stream: _Stream, error: BaseException | None) -> None:
            self._ended(key, stream, error)

        stream = _Stream(open_stream, on_line, on_end)
        with self._lock:
            self._streams[key] = stream
            self._opened[key] = time.monotonic()
        stream.start()

    def _stop_stream(self, key: tuple[str, str, bool]) -> None:
        with self._lock:
            stream = self._streams.pop(key, None)
        if stream is not None:
            stream.stop()

    def _ended(
        self, key: tuple[str, str, bool], stream: _Stream, error: BaseException | None
    ) -> None:
        uid, container, previous = key
        with self._lock:
            if self._streams.get(key) is stream:
                del self._streams[key]
            self._backlog_pending.discard((uid, container))
            pod = self._pods.get(uid)
            name = pod.name if pod else uid
            if error is not None and not previous:
                # A waiting container (crash loop) refuses logs for a while: retry calmly.
                self._problems[(uid, container)] = (
                    f"{name}/{container}: {kube_error(error).message}"
                )
                self._retry_after[(uid, container)] = time.monotonic() + 5.0
            elif not previous:
                self._problems.pop((uid, container), None)
                # The stream ended (container restarted): pick it up again soon; but
                # a follow that keeps ending at once (nothing running to follow) is
                # asked again less and less often, not every second.
                now = time.monotonic()
                lived = now - self._opened.pop(key, now)
                quick = self._quick_ends.get((uid, container), 0) + 1 if lived < 3.0 else 0
                self._quick_ends[(uid, container)] = quick
                delay = min(QUICK_END_MAX_S, 2.0**quick) if quick else 1.0
                self._retry_after[(uid, container)] = now + delay

    # -- ingest (stream threads) ----------------------------------------------------------

    def _ingest(
        self,
        pod: PodRow,
        container: str,
        label: str,
        previous: bool,
        ts: datetime | None,
        text: str,
    ) -> None:
        self.ingested += 1
        if not previous and ts is not None:
            last = self._last_ts.get((pod.uid, container))
            if last is not None and ts <= last:
                return  # already seen before a reconnect
            self._last_ts[(pod.uid, container)] = ts
        if not self.pattern.search(text):
            return
        line_time = ts or datetime.now(UTC)
        minute = int(line_time.timestamp() // 60)
        with self._lock:
            self._seq += 1
            self._lines.append(
                LogLine(self._seq, ts, pod.name, label, pod.app, clean(text, LINE_MAX_CHARS))
            )
            self._per_minute[minute] = self._per_minute.get(minute, 0) + 1
            if len(self._per_minute) > MINUTES_KEPT:
                for old in sorted(self._per_minute)[: len(self._per_minute) - MINUTES_KEPT]:
                    del self._per_minute[old]

    # -- the loop's view ------------------------------------------------------------------

    def batch(self) -> LogBatch:
        now_minute = int(time.time() // 60)
        with self._lock:
            fresh = []
            for line in reversed(self._lines):
                if line.seq <= self._delivered:
                    break
                fresh.append(line)
            fresh.reverse()
            if fresh:
                self._delivered = fresh[-1].seq
            per_minute = tuple(
                self._per_minute.get(m, 0)
                for m in range(now_minute - MINUTES_SHOWN + 1, now_minute + 1)
            )
            followed = tuple(
                sorted(
                    {
                        self._pods[uid].name
                        for uid, _, prev in self._streams
                        if not prev and uid in self._pods
                    }
                )
            )
            problems = tuple(sorted(self._problems.values()))
            backlog_done = not self._backlog_pending
        return LogBatch(
            lines=tuple(fresh),
            per_minute=per_minute,
            followed=followed,
            capped=self._capped,
            problems=problems,
            taken_at=datetime.now(UTC),
            backlog_done=backlog_done,
            level=level_for(rate_of(per_minute), self._threshold),
        )

    def all_lines(self) -> tuple[LogLine, ...]:
        with self._lock:
            return tuple(self._lines)

    @property
    def stream_count(self) -> int:
        with self._lock:
            return len(self._streams)

    def stop(self) -> None:
        self._closed = True
        with self._lock:
            streams = list(self._streams.values())
            self._streams.clear()
        for stream in streams:
            stream.stop()
        for stream in streams:
            stream.thread.join(2.0)


class PodLogStream:
    """One pod's log for the full-screen view: tail, since, previous, follow."""

    def __init__(
        self,
        open_log: Callable[..., Any],  # (pod name, **raw.pod_log options) -> response
        pod: str,
        container: str | None,
        *,
        tail_lines: int | None = 500,
        since_seconds: int | None = None,
        previous: bool = False,
        follow: bool = True,
        max_lines: int = 20_000,
        request_timeout: float = 10.0,
    ) -> None:
        self.pod = pod
        self.container = container
        self._lock = threading.Lock()
        self._pending: deque[tuple[datetime | None, str]] = deque(maxlen=max_lines)
        self.dropped = 0
        self.error: str = ""
        self.ended = False
        kwargs: dict[str, Any] = {"timestamps": True, "follow": follow, "previous": previous}
        if container:
            kwargs["container"] = container
        if tail_lines is not None:
            kwargs["tail_lines"] = tail_lines
        if since_seconds is not None:
            kwargs["since_seconds"] = since_seconds

        def open_stream() -> Any:
            return open_log(
                pod,
                timeout=(request_timeout, FOLLOW_READ_TIMEOUT_S if follow else request_timeout * 3),
                **kwargs,
            )

        self._stream = _Stream(open_stream, self._on_line, self._on_end)

    def start(self) -> PodLogStream:
        self._stream.start()
        return self

    def _on_line(self, ts: datetime | None, text: str) -> None:
        with self._lock:
            if len(self._pending) == self._pending.maxlen:
                self.dropped += 1
            self._pending.append((ts, clean(text, LINE_MAX_CHARS)))

    def _on_end(self, stream: _Stream, error: BaseException | None) -> None:
        if error is not None:
            self.error = kube_error(error).message
        self.ended = True

    def drain(self) -> list[tuple[datetime | None, str]]:
        with self._lock:
            lines = list(self._pending)
            self._pending.clear()
        return lines

    def stop(self) -> None:
        self._stream.stop()
        self._stream.thread.join(2.0)
