"""The service as its users see it: health, SLOs, alerts, Prometheus."""

from __future__ import annotations

from datetime import datetime

from cockpit.model import Level, frozen, worst

# -- the service as its users see it: health, SLOs, alerts ------------------------------


@frozen
class EndpointHealth:
    """One health endpoint's last check.  `error`, `app_status` and `url` are untrusted."""

    name: str  # "excel-unified.com" or "rails-service:3000"
    url: str  # what was fetched (for a service: the API server's proxy path)
    via: str  # "direct" or "service proxy"
    status: int | None  # the HTTP status code; None when nothing answered
    ms: float | None  # latency of the last check
    history: tuple[float | None, ...]  # latencies, oldest first; None where a check failed
    app_status: str | None  # the JSON body's own "status" field, when there is one
    cert_days: float | None  # https: days until the certificate expires
    error: str  # what went wrong, in words ("" when it answered 2xx)
    hint: str  # what to do about it
    level: Level
    checked_at: datetime | None
    failing_since: datetime | None = None
    reason: str = ""  # a few words on why it is not OK ("503", "timeout", "cert 2 d")


@frozen
class HealthSnapshot:
    endpoints: tuple[EndpointHealth, ...]
    taken_at: datetime
    level: Level = Level.OK


@frozen
class WindowFigures:
    """Traffic over one rolling window (1 min or 5 min), each figure with its level."""

    seconds: float  # the window's length (less while the cockpit has not run that long)
    requests: int
    rps: float
    errors: int  # 5xx answers
    error_pct: float | None  # None: no requests
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    rps_level: Level = Level.OK
    error_level: Level = Level.OK
    p50_level: Level = Level.OK
    p95_level: Level = Level.OK
    p99_level: Level = Level.OK

    @property
    def level(self) -> Level:
        return worst(
            (self.rps_level, self.error_level, self.p50_level, self.p95_level, self.p99_level)
        )


@frozen
class UpstreamSlo:
    """One upstream ("all", "rails", "fastapi"): both windows and a short history."""

    name: str
    one_minute: WindowFigures
    five_minutes: WindowFigures
    # One value per 10 s bucket, oldest first, for the sparklines.
    rps_history: tuple[float, ...] = ()
    error_pct_history: tuple[float, ...] = ()
    p99_history: tuple[float, ...] = ()
    level: Level = Level.OK


@frozen
class BurnRate:
    """Error-budget burn over a long/short window pair (SRE workbook, multiwindow)."""

    long_window: str  # "1h"
    short_window: str  # "5m"
    factor: float  # 14.4 (page) or 6 (ticket)
    long_burn: float | None  # burn rate over the long window; None: no requests
    short_burn: float | None
    covered_s: float  # how much of the long window the cockpit has seen
    firing: bool  # both windows above the factor
    level: Level = Level.OK
    upstream: str = "all"  # whose budget: "all" or one upstream


@frozen
class SloSnapshot:
    upstreams: tuple[UpstreamSlo, ...]  # "all" first
    burn: tuple[BurnRate, ...]
    objective_pct: float
    lines: int  # access-log lines read since start
    unparsed: int  # lines that were not access-log lines
    dropped: int  # lines lost because ingest fell behind (0 is the promise)
    streams: int  # nginx pods followed
    taken_at: datetime
    level: Level = Level.OK
    message: str = ""  # e.g. "no nginx pods found (app=nginx)"
    message_level: Level = Level.OK  # the message's own level (e.g. WARN: no pods)
    hint: str = ""  # what to do about the message


@frozen
class Alert:
    """One Prometheus alert (`/api/v1/alerts`).  Every text field is untrusted."""

    name: str
    state: str  # "firing" or "pending"
    severity: str
    since: datetime | None  # activeAt
    summary: str
    runbook: str  # the runbook section it maps to ("" when none)
    labels: tuple[tuple[str, str], ...] = ()
    value: str = ""
    level: Level = Level.OK


@frozen
class PromFigures:
    """The SLO figures of one upstream from PromQL (5-minute rates), beside the logs'."""

    upstream: str
    rps: float | None
    error_pct: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


@frozen
class PrometheusSnapshot:
    url: str  # "" when none is configured or discovered
    configured: bool  # False: no Prometheus; `message` says how to add one
    alerts: tuple[Alert, ...]  # firing first, then pending
    figures: tuple[PromFigures, ...]
    taken_at: datetime
    level: Level = Level.OK
    message: str = ""
    hint: str = ""

    @property
    def firing(self) -> int:
        return sum(1 for a in self.alerts if a.state == "firing")
