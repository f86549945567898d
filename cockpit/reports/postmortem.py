"""A postmortem from a recording: what each pane showed and when it changed, the alerts
that fired, the minutes the SLO figures spent past the runbook's limits, the pods that
came and went, and every journaled action with who, when and how it ended.

A recorded state holds until the next record of its source (the recording stores
changes), the last one until the end of the recording.  Pure but for the reader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.config import Thresholds
from cockpit.model import (
    BackupsSnapshot,
    DiskSnapshot,
    EventsSnapshot,
    HealthSnapshot,
    HostSnapshot,
    KubeSnapshot,
    Level,
    LogBatch,
    PgSnapshot,
    PrometheusSnapshot,
    RedisSnapshot,
    SloSnapshot,
    TopSnapshot,
)
from cockpit.recording.store import STALE as STALE_LEVEL
from cockpit.recording.store import UNKNOWN as UNKNOWN_LEVEL
from cockpit.recording.store import RecordingReader
from cockpit.reports.charts import Line
from cockpit.reports.figures import LATENCIES, Limit, judged, limits
from cockpit.reports.recorded import window_values
from cockpit.slo.report import summary as slo_summary
from cockpit.snapshot_words import summarise
from cockpit.sources.disk import check_lines as disk_lines
from cockpit.sources.health import check_lines as health_lines
from cockpit.sources.prometheus.check import check_lines as prometheus_lines

STALE = "STALE"  # a failure after the last snapshot: the pane kept old data
NO_OUTCOME = "started, no outcome recorded"
DETAIL_NAMES = 4  # pods named in a change's detail


@dataclass(frozen=True, slots=True)
class LevelChange:
    at: datetime
    source: str
    before: str | None  # None: the first record of the source
    after: str  # OK / WARN / CRIT / STALE
    detail: str


@dataclass(frozen=True, slots=True)
class AlertSpan:
    name: str
    severity: str
    summary: str
    first: datetime  # first seen (pending or firing)
    firing_from: datetime | None
    until: datetime  # last seen, held to the next Prometheus record
    labels: str


@dataclass(frozen=True, slots=True)
class SloBreach:
    upstream: str
    limit: Limit
    seconds: float
    worst: float

    @property
    def minutes(self) -> float:
        return self.seconds / 60.0


@dataclass(frozen=True, slots=True)
class PodChange:
    at: datetime
    pod: str
    what: str  # "appeared", "gone", "restarted (3 -> 4)"


@dataclass(frozen=True, slots=True)
class ActionRow:
    at: datetime
    who: str
    action: str
    targets: str
    mode: str
    outcome: str
    duration_s: float | None
    words: str  # message and error


@dataclass(frozen=True, slots=True)
class Postmortem:
    start: datetime
    end: datetime
    sources: tuple[str, ...]
    changes: tuple[LevelChange, ...]
    alerts: tuple[AlertSpan, ...]
    breaches: tuple[SloBreach, ...]
    pods: tuple[PodChange, ...]
    actions: tuple[ActionRow, ...]
    error_lines: tuple[Line, ...]
    latency_lines: tuple[Line, ...]
    readiness_lines: tuple[Line, ...]
    limits: dict[str, Limit]

    def worst(self, source: str) -> str:
        order = {"OK": 0, "WARN": 1, STALE: 2, "CRIT": 3}
        seen = [c.after for c in self.changes if c.source == source]
        return max(seen, key=lambda s: order.get(s, 0), default="")


# -- levels ------------------------------------------------------------------------------


# Panes whose check lines say what is wrong: the worst line is what the pane showed.
_CHECK_LINES: dict[type, Callable[[Any], list[tuple[Level, str]]]] = {
    HealthSnapshot: health_lines,
    DiskSnapshot: disk_lines,
    PrometheusSnapshot: lambda snap: prometheus_lines(snap, snap.taken_at),
}
_SUMMARISED = (
    BackupsSnapshot, EventsSnapshot, HostSnapshot, PgSnapshot, RedisSnapshot, TopSnapshot,
)  # fmt: skip


def _detail(snapshot: object) -> str:
    """A few words on what the pane showed (the panes' own summaries where they exist)."""
    if isinstance(snapshot, SloSnapshot):
        return slo_summary(snapshot) or "figures within the limits"
    if isinstance(snapshot, KubeSnapshot):
        bad = [p for p in snapshot.pods if p.level > Level.OK]
        named = ", ".join(f"{p.name} {p.status}" for p in bad[:DETAIL_NAMES])
        more = f" and {len(bad) - DETAIL_NAMES} more" if len(bad) > DETAIL_NAMES else ""
        return f"{named}{more}" if bad else "all pods fine"
    if isinstance(snapshot, LogBatch):
        words = f"{snapshot.rate} error lines in the last full minute"
        return "; ".join((words, *snapshot.problems[:1]))
    if isinstance(snapshot, BackupsSnapshot) and snapshot.problems:
        return snapshot.problems[0][1]
    lines = _CHECK_LINES.get(type(snapshot))
    if lines is not None:
        found = lines(snapshot)
        return max(found, key=lambda line: line[0])[1] if found else ""
    if isinstance(snapshot, _SUMMARISED):
        return summarise("", snapshot)[1]
    return str(getattr(snapshot, "message", "") or "")


def _words(made: list[Any] | None) -> str:
    if not made:
        return ""
    frame = made[0]
    if frame.failure is not None:
        return str(frame.failure.message)
    return _detail(frame.snapshot)


def _label(level: int | None) -> str | None:
    if level == STALE_LEVEL:
        return STALE
    if level == UNKNOWN_LEVEL or level is None:
        return None
    return Level(level).label


def level_changes(reader: RecordingReader) -> list[LevelChange]:
    """The reader's level changes (stored levels; a failure is stale), each with the
    words of the record that made it."""
    out = []
    for c in reader.level_changes():
        after = _label(c.new)
        if after is None:
            continue
        made = [
            f
            for f in reader.frames(c.at, c.at, sources=[c.source])
            if f.snapshot is not None or f.failure is not None
        ]
        out.append(LevelChange(c.at, c.source, _label(c.old), after, _words(made[-1:] or None)))
    return out


# -- alerts, SLO minutes, pods -------------------------------------------------------------


def alert_spans(proms: list[tuple[datetime, PrometheusSnapshot]], end: datetime) -> list[AlertSpan]:
    spans: dict[tuple[str, tuple], dict[str, Any]] = {}
    for i, (at, snap) in enumerate(proms):
        until = proms[i + 1][0] if i + 1 < len(proms) else end
        for a in snap.alerts:
            key = (a.name, a.labels)
            span = spans.setdefault(
                key,
                {"alert": a, "first": at, "firing_from": None, "until": until},
            )
            span["until"] = until
            if a.state == "firing" and span["firing_from"] is None:
                span["firing_from"] = at
    return [
        AlertSpan(
            name=s["alert"].name,
            severity=s["alert"].severity,
            summary=s["alert"].summary,
            first=s["first"],
            firing_from=s["firing_from"],
            until=s["until"],
            labels=", ".join(f"{k}={v}" for k, v in s["alert"].labels if k != "alertname"),
        )
        for s in sorted(spans.values(), key=lambda s: s["first"])
    ]


def slo_breaches(
    slos: list[tuple[datetime, SloSnapshot]], end: datetime, th: Thresholds
) -> list[SloBreach]:
    """Time each upstream's one-minute figures spent past the runbook's limits."""
    found = limits(th)
    seconds: dict[tuple[str, str], float] = {}
    worst: dict[tuple[str, str], float] = {}
    for i, (at, snap) in enumerate(slos):
        until = slos[i + 1][0] if i + 1 < len(slos) else end
        held = max(0.0, (until - at).total_seconds())
        for up in snap.upstreams:
            for figure, value in window_values(up.one_minute).items():
                limit = found[figure]
                if value is None or not judged(up.name, figure) or not limit.breached(value):
                    continue
                key = (up.name, figure)
                seconds[key] = seconds.get(key, 0.0) + held
                old = worst.get(key)
                better = max if limit.higher_is_worse else min
                worst[key] = value if old is None else better(old, value)
    return [
        SloBreach(up, found[figure], seconds[(up, figure)], worst[(up, figure)])
        for up, figure in seconds
    ]


def pod_changes(kubes: list[tuple[datetime, KubeSnapshot]]) -> list[PodChange]:
    out: list[PodChange] = []
    before: dict[str, int] | None = None
    for at, snap in kubes:
        now = {p.name: p.restarts for p in snap.pods}
        if before is not None:
            out += [PodChange(at, name, "gone") for name in sorted(set(before) - set(now))]
            out += [PodChange(at, name, "appeared") for name in sorted(set(now) - set(before))]
            out += [
                PodChange(at, name, f"restarted ({before[name]} -> {n})")
                for name, n in sorted(now.items())
                if name in before and n > before[name]
            ]
        before = now
    return out


# -- actions -------------------------------------------------------------------------------


def action_rows(entries: list[tuple[datetime, dict[str, Any]]]) -> list[ActionRow]:
    """One row per action: an intent ("started") and its outcome, paired by run id."""
    rows: list[ActionRow] = []
    open_runs: dict[str, int] = {}
    for at, e in entries:
        run = e.get("run")
        if run and run in open_runs and e.get("outcome") != "started":
            i = open_runs.pop(run)
            rows[i] = _row(rows[i].at, e)
            continue
        row = _row(at, e)
        if e.get("outcome") == "started":
            row = _row(at, dict(e, outcome=NO_OUTCOME))
            if run:
                open_runs[run] = len(rows)
        rows.append(row)
    return rows


def _row(at: datetime, e: dict[str, Any]) -> ActionRow:
    who = f"{e.get('os_user', '?')}@{e.get('host', '?')}"
    if e.get("kube_user"):
        who += f" as {e['kube_user']}"
    words = " · ".join(str(e[k]) for k in ("message", "error") if e.get(k))
    duration = e.get("duration_s")
    return ActionRow(
        at=at,
        who=who,
        action=str(e.get("action", "?")),
        targets=", ".join(str(t) for t in e.get("targets") or []),
        mode=str(e.get("mode", "")),
        outcome=str(e.get("outcome", "?")),
        duration_s=float(duration) if isinstance(duration, (int, float)) else None,
        words=words,
    )


# -- charts --------------------------------------------------------------------------------


def _slo_lines(slos: list[tuple[datetime, SloSnapshot]]) -> tuple[list[Line], list[Line]]:
    errors: dict[str, list] = {}
    latency: dict[str, list] = {f: [] for f in LATENCIES}
    for at, snap in slos:
        t = at.timestamp()
        for up in snap.upstreams:
            values = window_values(up.one_minute)
            errors.setdefault(up.name, []).append((t, values["error_pct"]))
            if up.name == snap.upstreams[0].name:  # "all": the service as users saw it
                for f in LATENCIES:
                    latency[f].append((t, values[f]))
    error_lines = [Line(name, pts) for name, pts in errors.items()]
    latency_lines = (
        [Line(f"{f[:3]} ({slos[0][1].upstreams[0].name})", latency[f]) for f in LATENCIES]
        if slos and slos[0][1].upstreams
        else []
    )
    return error_lines, latency_lines


def _readiness_lines(kubes: list[tuple[datetime, KubeSnapshot]]) -> list[Line]:
    ready: dict[str, list] = {}
    not_ready: list = []
    for at, snap in kubes:
        t = at.timestamp()
        for w in snap.workloads:
            ready.setdefault(f"{w.name} ready", []).append((t, float(w.ready)))
        not_ready.append((t, float(snap.not_ready)))
    lines = [Line(name, pts, step=True) for name, pts in sorted(ready.items())]
    return [*lines, Line("pods not ready", not_ready, step=True)] if kubes else []


# -- the whole ------------------------------------------------------------------------------


def _of(reader: RecordingReader, source: str, kind: type) -> list[tuple[datetime, Any]]:
    """One source's snapshots of one class (only those are decoded)."""
    return [
        (f.at, f.snapshot)
        for f in reader.frames(sources=[source])
        if f.type == kind.__name__ and isinstance(f.snapshot, kind)
    ]


def build(reader: RecordingReader, th: Thresholds) -> Postmortem:
    span = reader.span()
    if span is None:
        raise ValueError("the recording is empty")
    start, end = span
    slos = _of(reader, "slo", SloSnapshot)
    proms = _of(reader, "prometheus", PrometheusSnapshot)
    kubes = _of(reader, "pods", KubeSnapshot)
    error_lines, latency_lines = _slo_lines(slos)
    return Postmortem(
        start=start,
        end=end,
        sources=tuple(reader.sources()),
        changes=tuple(level_changes(reader)),
        alerts=tuple(alert_spans(proms, end)),
        breaches=tuple(slo_breaches(slos, end, th)),
        pods=tuple(pod_changes(kubes)),
        actions=tuple(action_rows(reader.actions())),
        error_lines=tuple(error_lines),
        latency_lines=tuple(latency_lines),
        readiness_lines=tuple(_readiness_lines(kubes)),
        limits=limits(th),
    )
