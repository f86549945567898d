"""The SLO pane's data: the nginx pods' access logs, followed, into rolling windows.

One thread per followed nginx pod (at most `slo.max_streams`) holds one `kubectl logs
-f` stream (cockpit.sources.kube.logs._Stream).  Each line is parsed on that thread and
counted into the windows under one lock: the event loop never sees a line, only the
figures `snapshot()` computes from the buckets.  A stream starts `slo.backfill_seconds`
back, so the 1 m and 5 m windows are full at once; when it ends (container restart, API
server hiccup, a quiet read timeout) it is reopened from its last line's time, and
lines already counted are skipped.  Pods come and go with `sync(pods)`.

Nothing is dropped for speed: the readers apply back-pressure to the stream (the API
server buffers).  `dropped` counts lines that arrived too late for every window (the
stream fell more than 6 hours behind), which is as close to "fell behind" as a
back-pressured reader gets.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from cockpit.config import Settings
from cockpit.model import Level, PodRow, SloSnapshot
from cockpit.slo.figures import build_snapshot
from cockpit.slo.parse import AccessParser, split_kubelet
from cockpit.slo.windows import SloWindows
from cockpit.sources.kube.client import kube_error
from cockpit.sources.kube.logs import FOLLOW_READ_TIMEOUT_S, _Stream
from cockpit.textsafe import one_line

RETRY_AFTER_END_S = 1.0  # a stream that ended (restart, read timeout) reopens soon
RETRY_AFTER_ERROR_S = 5.0  # a refused one (pod not started yet) calmly
FUTURE_SLACK_S = 2.0  # a node's clock ahead of ours: its lines count as "now"
CAUGHT_UP_IDLE_S = 0.5  # a stream that paused this long has read its backlog
CAUGHT_UP_SILENT_S = 3.0  # one that said nothing this long after opening has none


class LogApi(Protocol):
    """What the follower needs of KubeSource: a pod's log stream (raw.pod_log)."""

    def pod_log(self, pod: str, **options: Any) -> Any: ...


class _Follow:
    """One followed pod: its stream and where it is up to."""

    __slots__ = (
        "caught_up",
        "last_line",
        "last_t",
        "opened_at",
        "pod",
        "read_any",
        "skip_until",
        "stream",
    )

    def __init__(self, pod: PodRow) -> None:
        self.pod = pod
        self.stream: _Stream | None = None
        self.last_t: float | None = None  # the newest line time read (to resume from)
        self.skip_until: float | None = None  # after a reconnect: lines already counted
        self.opened_at = 0.0
        self.last_line = 0.0  # monotonic time of the last line read
        self.caught_up = False
        self.read_any = False

    def done_reading(self, now: float) -> bool:
        """Has it read its backlog?  A line from after the open says so; so does a
        pause after some lines, or a long silence after the open (an idle pod)."""
        if self.caught_up:
            return True
        if self.read_any:
            return now - self.last_line > CAUGHT_UP_IDLE_S
        return now - self.last_line > CAUGHT_UP_SILENT_S


def pick_container(pod: PodRow, app: str) -> str | None:
    """The nginx container of the pod (by name), else its first."""
    names = [c.name for c in pod.containers]
    for wanted in (app, "nginx", "controller"):
        for name in names:
            if wanted and wanted in name:
                return name
    return names[0] if names else None


class TrafficSource:
    def __init__(
        self,
        settings: Settings,
        kube: LogApi,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._slo = settings.slo
        self._kube = kube
        self._clock = clock
        self._parser = AccessParser(self._slo.upstreams)
        self._lock = threading.Lock()
        self._windows = SloWindows(self._slo.upstreams, origin=clock())
        self._follows: dict[str, _Follow] = {}  # pod uid -> its follow
        self._retry_after: dict[str, float] = {}
        self._problems: dict[str, str] = {}
        self._pods: list[PodRow] | None = None  # None: never synced
        self._capped = 0
        self._started = False
        self._closed = False
        self.lines = 0
        self.unparsed = 0
        self.dropped = 0
        # The pods the choice was last made from (a snapshot's tuple, re-sent every
        # poll while nothing changes: at 5,000 pods the scan is not done again).
        self._chosen_from: object = None

    # -- which pods --------------------------------------------------------------------

    def sync(self, pods: Iterable[PodRow]) -> None:
        """Follow the nginx pods among `pods`; stop following those that are gone."""
        if self._closed:
            return
        if pods is self._chosen_from:  # the same pods as the last poll's: the same choice
            self._ensure_streams()
            return
        self._chosen_from = pods
        app = self._slo.nginx_app
        # Running pods only: a starting one has no log yet (its stream would be refused).
        wanted = sorted(
            (p for p in pods if p.app == app and p.phase == "Running" and not p.deleting),
            key=lambda p: p.name,
        )
        chosen = wanted[: self._slo.max_streams]
        with self._lock:
            self._pods = chosen
            self._capped = len(wanted) - len(chosen)
            uids = {p.uid for p in chosen}
            gone = [uid for uid in self._follows if uid not in uids]
            stale = [self._follows.pop(uid) for uid in gone]
            for uid in gone:
                self._problems.pop(uid, None)
        for follow in stale:
            if follow.stream is not None:
                follow.stream.stop()
        self._ensure_streams()

    def _ensure_streams(self) -> None:
        """Open a stream for every chosen pod without one (new, or its stream ended)."""
        now = time.monotonic()
        with self._lock:
            pods = list(self._pods or ())
        for pod in pods:
            with self._lock:
                follow = self._follows.get(pod.uid)
                if follow is None:
                    follow = self._follows[pod.uid] = _Follow(pod)
                follow.pod = pod
                busy = follow.stream is not None or now < self._retry_after.get(pod.uid, 0.0)
            if not busy and not self._closed:
                self._open(follow)

    def _open(self, follow: _Follow) -> None:
        pod = follow.pod
        container = pick_container(pod, self._slo.nginx_app)
        kwargs: dict[str, Any] = {"follow": True, "timestamps": True}
        if container:
            kwargs["container"] = container
        now = self._clock()
        with self._lock:
            if not self._started:
                # The windows reach back as far as the first streams do.
                self._started = True
                if self.lines == 0:
                    self._windows.origin = now - self._slo.backfill_seconds
            last = follow.last_t
        if last is not None:
            # The client has no sinceTime: ask from a little before the last line and
            # skip what was counted (by time).
            kwargs["since_seconds"] = max(1, int(now - last) + 2)
            follow.skip_until = last
        elif self._slo.backfill_seconds > 0:
            kwargs["since_seconds"] = self._slo.backfill_seconds
        else:
            kwargs["tail_lines"] = 0
        timeout = self.settings.kube.request_timeout

        def open_stream() -> Any:
            return self._kube.pod_log(pod.name, timeout=(timeout, FOLLOW_READ_TIMEOUT_S), **kwargs)

        def on_line(t: float | None, text: str) -> None:
            follow.last_line = time.monotonic()
            follow.read_any = True
            if t is not None:
                if follow.skip_until is not None:
                    if t <= follow.skip_until:
                        return
                    follow.skip_until = None
                follow.last_t = t
                if not follow.caught_up and t >= follow.opened_at - 1.0:
                    follow.caught_up = True
            self.ingest(t, text)

        def on_end(stream: _Stream, error: BaseException | None) -> None:
            self._ended(follow, stream, error)

        stream = _Stream(open_stream, on_line, on_end, split=split_kubelet)
        with self._lock:
            follow.stream = stream
            follow.opened_at = now
            follow.last_line = time.monotonic()
            follow.caught_up = False
        stream.start()

    def _ended(self, follow: _Follow, stream: _Stream, error: BaseException | None) -> None:
        uid = follow.pod.uid
        with self._lock:
            if follow.stream is stream:
                follow.stream = None
            follow.caught_up = True  # nothing more is coming from this one
            if error is not None:
                message = kube_error(error).message
                self._problems[uid] = f"{follow.pod.name}: {one_line(message, 200)}"
                self._retry_after[uid] = time.monotonic() + RETRY_AFTER_ERROR_S
            else:
                self._problems.pop(uid, None)
                self._retry_after[uid] = time.monotonic() + RETRY_AFTER_END_S

    # -- ingest (reader threads) ------------------------------------------------------

    def ingest(self, t: float | None, text: str) -> None:
        """One log line (its kubelet time split off) into the windows.  Thread-safe:
        the followers' threads call it; so does the ingest benchmark."""
        record = self._parser.parse(text, t)
        with self._lock:
            self.lines += 1
            if record is None:
                self.unparsed += 1
                return
            if record.upstream is None:
                return  # nginx answered itself (probes): no upstream's figure
            when = record.t
            latest = self._clock() + FUTURE_SLACK_S
            if when is None or when > latest:
                when = latest - FUTURE_SLACK_S
            if not self._windows.add(when, record.upstream, record.error, record.latency_ms):
                self.dropped += 1

    # -- the loop's view ---------------------------------------------------------------

    async def snapshot(self) -> SloSnapshot:
        # Off the loop, both: opening streams takes the lock that every stream's thread
        # takes for each line (the event loop waited 50-60 ms on it at start-up).
        return await asyncio.to_thread(self._reopen_and_snapshot)

    def _reopen_and_snapshot(self) -> SloSnapshot:
        self._ensure_streams()  # reopen the streams that ended since the last poll
        return self.snapshot_now()

    def snapshot_now(self) -> SloSnapshot:
        """The figures at this moment (a few milliseconds of bucket merging)."""
        now = self._clock()
        with self._lock:
            message, level, hint = self._state()
            return build_snapshot(
                self._windows,
                self.settings.thresholds,
                self._slo.objective_pct,
                now,
                taken_at=datetime.fromtimestamp(now, UTC),
                lines=self.lines,
                unparsed=self.unparsed,
                dropped=self.dropped,
                streams=sum(1 for f in self._follows.values() if f.stream is not None),
                message=message,
                message_level=level,
                hint=hint,
            )

    def _state(self) -> tuple[str, Level, str]:
        """What to say beside the figures (called under the lock)."""
        app = self._slo.nginx_app
        if self._pods is None:
            return "waiting for the pod list", Level.OK, ""
        if not self._pods:
            return (
                f"no nginx pods found (app={app})",
                Level.WARN,
                "set slo.nginx_app to the `app` label of the pods that serve the traffic",
            )
        words: list[str] = []
        level = Level.OK
        hint = ""
        if self._problems:
            problems = sorted(self._problems.values())
            words.append(
                "; ".join(problems[:2]) + (f" (+{len(problems) - 2})" if len(problems) > 2 else "")
            )
            level = Level.WARN
            hint = "the API server refused the log stream; it is retried every few seconds"
        if self._capped:
            words.append(
                f"following {len(self._pods)} of {len(self._pods) + self._capped} nginx pods "
                "(slo.max_streams)"
            )
        if self.lines >= 20 and self.unparsed == self.lines:
            words.append(f"none of {self.lines} lines is an access line in the upstreaminfo format")
            level = Level.WARN
            hint = "the nginx pods must log with ingress-nginx's `log_format upstreaminfo`"
        return "; ".join(words), level, hint

    async def wait_caught_up(self, timeout: float) -> bool:
        """Until every stream has read its backlog (for `cockpit check`); False when
        `timeout` ran out first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._ensure_streams()
            with self._lock:
                follows = list(self._follows.values())
                synced = self._pods is not None
            if synced and all(f.done_reading(time.monotonic()) for f in follows):
                return True
            await asyncio.sleep(0.05)
        return False

    @property
    def stream_count(self) -> int:
        with self._lock:
            return sum(1 for f in self._follows.values() if f.stream is not None)

    def stop(self) -> None:
        self._closed = True
        with self._lock:
            streams = [f.stream for f in self._follows.values() if f.stream is not None]
            self._follows.clear()
        for stream in streams:
            stream.stop()
        for stream in streams:
            stream.thread.join(2.0)

    async def close(self) -> None:
        await asyncio.to_thread(self.stop)
