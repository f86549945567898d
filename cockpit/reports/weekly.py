"""The runbook's weekly checks in one report: the performance report (response time
trend, error rate, throughput against the thresholds), the backups of the week and the
image vulnerability scan.

Figures come from Prometheus range queries when one is configured or discovered (as
the Alerts pane finds it), else from a recording's SLO snapshots; the report says which
and why.  Every part fails on its own: what could not be read is said in the report.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cockpit.config import Settings
from cockpit.errors import SourceError
from cockpit.model import BackupsSnapshot, SloSnapshot
from cockpit.reports import vulns
from cockpit.reports.backups_week import WeekBackups, week_backups
from cockpit.reports.figures import Limit, Summary, Traffic, limits, summaries
from cockpit.reports.prom_range import RangeAsked, traffic_from_prometheus
from cockpit.reports.recorded import last_backups, slo_snapshots, traffic_from_snapshots
from cockpit.sources.kube.client import KubeTarget, connect
from cockpit.sources.prometheus.source import PrometheusSource

PROMETHEUS = "prometheus"
RECORDING = "recording"
NONE = "none"
WEEK = timedelta(days=7)
STEP_S = 3600.0  # one point per hour: 168 points a week


@dataclass(frozen=True)
class WeeklyReport:
    start: datetime
    end: datetime
    namespace: str
    figures_source: str  # PROMETHEUS, RECORDING or NONE
    figures_words: str  # where the figures came from, for a person
    traffic: list[Traffic]
    summaries: list[Summary]
    limits: dict[str, Limit]
    backups: WeekBackups
    vulns: vulns.VulnReport
    asked: RangeAsked | None = None
    problems: list[str] = field(default_factory=list)


def _connect(settings: Settings, context: str | None, namespace: str | None) -> KubeTarget:
    return connect(settings.kube, context=context, namespace=namespace)


async def _figures(
    settings: Settings,
    target: KubeTarget | None,
    start: datetime,
    end: datetime,
    step: float,
    recording: Path | None,
    problems: list[str],
) -> tuple[str, str, list[Traffic], RangeAsked | None, BackupsSnapshot | None]:
    """(source, words, traffic, what was asked, the recorded backups snapshot)."""
    source = PrometheusSource(settings, target)
    why = "no Prometheus configured or found"
    try:
        found = await traffic_from_prometheus(source, start.timestamp(), end.timestamp(), step)
    except SourceError as exc:
        problems.append(f"Prometheus: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
        found, why = None, "Prometheus failed (see the notes)"
    finally:
        await source.close()
    if found is not None and not found[0] and recording is not None:
        found, why = None, f"Prometheus at {found[1].url} has no figures for the period"
    recorded_backups: BackupsSnapshot | None = None
    snaps: list = []
    if recording is not None:
        try:
            recorded_backups, snaps = _read_recording(recording, start, end, found is None)
        except Exception as exc:  # not a recording, unreadable: said, and done without
            problems.append(f"recording {recording}: {exc}")
            recording = None
    if found is not None:
        traffic, asked = found
        words = (
            f"Prometheus range queries at {asked.url}, one point every {step:g} s, "
            f"each the rate over the {step:g} s before it"
        )
        return PROMETHEUS, words, traffic, asked, recorded_backups
    if recording is not None:
        words = (
            f"the recording {recording.name}: {len(snaps)} SLO snapshots (five-minute "
            f"windows of the nginx access logs); {why}"
        )
        return RECORDING, words, traffic_from_snapshots(snaps), None, recorded_backups
    words = f"none: {why}, and no recording given (--recording FILE)"
    return NONE, words, [], None, None


def _read_recording(
    path: Path, start: datetime, end: datetime, figures: bool
) -> tuple[BackupsSnapshot | None, list[tuple[datetime, SloSnapshot]]]:
    from cockpit.recording.store import RecordingReader  # only when asked for

    reader = RecordingReader(path)
    try:
        backups = last_backups(reader, start, end)
        return backups, slo_snapshots(reader, start, end) if figures else []
    finally:
        reader.close()


async def build_weekly(
    settings: Settings,
    *,
    end: datetime,
    length: timedelta = WEEK,
    step: float = STEP_S,
    recording: Path | None = None,
    context: str | None = None,
    namespace: str | None = None,
) -> WeeklyReport:
    start = end - length
    problems: list[str] = []
    target: KubeTarget | None = None
    kube_problem = ""
    try:
        target = await asyncio.to_thread(_connect, settings, context, namespace)
    except SourceError as exc:
        kube_problem = f"Kubernetes: {exc.message}"
        problems.append(kube_problem)
    ns = target.namespace if target is not None else (namespace or settings.kube.namespace)
    api = target.api if target is not None else None
    try:
        source, words, traffic, asked, recorded = await _figures(
            settings, target, start, end, step, recording, problems
        )
        backups, found_vulns = await asyncio.gather(
            asyncio.to_thread(
                week_backups, settings.backups, api, ns, start, end, recorded, kube_problem
            ),
            asyncio.to_thread(vulns.scan, api, ns, kube_problem),
        )
    finally:
        if target is not None:
            target.close()
    return WeeklyReport(
        start=start,
        end=end,
        namespace=ns,
        figures_source=source,
        figures_words=words,
        traffic=traffic,
        summaries=summaries(traffic, settings.thresholds),
        limits=limits(settings.thresholds),
        backups=backups,
        vulns=found_vulns,
        asked=asked,
        problems=problems,
    )
