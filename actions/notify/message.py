"""The incident message, prefilled from what the cockpit shows: a pure function, no I/O.

One plain-text message serves both channels (Slack's mrkdwn reads it as written, and an
email body is the same words), so what the person reads in the modal is exactly what
is sent.  Untrusted text (pane sentences, pod names, alert summaries, journal messages)
passes through `slack_escape`: Slack reads `<...>` as links and mentions (`<!channel>`),
so `&`, `<` and `>` are sent as `&amp;`, `&lt;`, `&gt;` as its docs require.  Control
characters are made visible (cockpit.textsafe) and every section has a bound, so that
a hostile log line can neither ping the channel nor blow the size limit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.model import (
    HealthSnapshot,
    KubeSnapshot,
    Level,
    PrometheusSnapshot,
    SloSnapshot,
    UpstreamSlo,
)
from cockpit.textsafe import one_line
from cockpit.units import ago, duration_ms, pct

# Slack truncates `text` at 40,000 characters and asks to keep it under 4,000 (longer
# ones are split or cut in the client); the prefilled message stays under the latter.
MAX_CHARS = 3_900
HARD_LIMIT = 40_000  # what may be sent at all, after the person's edits
MAX_FAILING = 12
MAX_PODS = 5
MAX_ALERTS = 10
MAX_ACTIONS = 15
LINE_CHARS = 240

# Journal outcomes that are actions taken; cancelled and refused ones changed nothing.
TAKEN = ("succeeded", "failed", "interrupted", "started")
SLO_ORDER = ("all", "rails", "fastapi")
INCIDENT_LINKS = ("status", "monitoring", "logs", "incidents")


@dataclass(frozen=True)
class Failing:
    """One pane that is not OK: its sentence (untrusted parts inside) and since when."""

    line: str
    level: Level
    since: datetime | None = None


@dataclass(frozen=True)
class IncidentState:
    """What the screen showed when the person pressed the key."""

    level: Level
    failing: tuple[Failing, ...]
    latest: Mapping[str, Any] = field(default_factory=dict)  # source -> newest snapshot
    context: str = ""
    namespace: str = ""
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    degraded_since: datetime | None = None  # the overall level first left OK (this session)


def slack_escape(text: str) -> str:
    """Untrusted text made inert for Slack: the three characters it asks to escape."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe(text: object, max_len: int = LINE_CHARS) -> str:
    """Untrusted text on one line: controls visible, bounded, escaped for Slack."""
    return slack_escape(one_line(str(text), max_len))


def clock(moment: datetime | None, now: datetime) -> str:
    """`03:02 UTC (10m ago)`, with the date when it is not today's."""
    if moment is None:
        return "unknown"
    moment = moment.astimezone(UTC)
    day = "" if moment.date() == now.astimezone(UTC).date() else f"{moment:%Y-%m-%d} "
    return f"{day}{moment:%H:%M} UTC ({ago(moment, now)})"


def subject(state: IncidentState, template: str) -> str:
    """The email subject from the settings' template ({level}, {namespace}, {context})."""
    values = {
        "level": state.level.label,
        "namespace": state.namespace or "-",
        "context": state.context or "-",
    }
    return one_line(template.format_map(values), 200)


def build_message(
    state: IncidentState,
    journal: Sequence[Mapping[str, Any]] = (),
    links: Mapping[str, str] | None = None,
    max_chars: int = MAX_CHARS,
    since: datetime | None = None,
) -> str:
    """The whole message: title, what fails since when, SLOs, alerts, actions (journal
    entries from `since` on), links."""
    parts = [title(state)]
    for section in (
        failing_section(state),
        slo_section(state.latest.get("slo")),
        alerts_section(state.latest.get("prometheus"), state.now),
        actions_section(journal, state.now, since),
        links_section(links or {}),
    ):
        if section:
            parts.append("\n".join(section))
    return bounded("\n\n".join(parts), max_chars)


def title(state: IncidentState) -> str:
    where = safe(state.namespace or "the service")
    context = f" · context {safe(state.context)}" if state.context else ""
    when = f"{state.now.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return f"*[{state.level.label}] {where}*{context} · {when}"


def failing_section(state: IncidentState) -> list[str]:
    now = state.now
    if not state.failing and state.level is Level.OK:
        return ["*Status:* every pane is OK"]
    lines = ["*What is failing*"]
    if state.degraded_since is not None:
        lines.append(f"Degraded since {clock(state.degraded_since, now)}, as seen by the cockpit")
    for item in state.failing[:MAX_FAILING]:
        since = f" — since {clock(item.since, now)}" if item.since else ""
        lines.append(f"• {item.level.label} {safe(item.line)}{since}")
    if len(state.failing) > MAX_FAILING:
        lines.append(f"• … and {len(state.failing) - MAX_FAILING} more")
    lines += health_lines(state.latest.get("health"), now)
    lines += pod_lines(state.latest.get("pods"), now)
    return lines


def health_lines(snap: object, now: datetime) -> list[str]:
    if not isinstance(snap, HealthSnapshot):
        return []
    lines = []
    for ep in snap.endpoints:
        if ep.level < Level.WARN:
            continue
        status = str(ep.status) if ep.status is not None else "no answer"
        error = f": {safe(ep.error, 120)}" if ep.error else ""
        since = f" — since {clock(ep.failing_since, now)}" if ep.failing_since else ""
        lines.append(f"• health {safe(ep.name, 80)} {status}{error}{since}")
    return lines


def pod_lines(snap: object, now: datetime) -> list[str]:
    if not isinstance(snap, KubeSnapshot):
        return []
    bad = sorted((p for p in snap.pods if p.level >= Level.WARN), key=lambda p: -p.level)
    lines = []
    for pod in bad[:MAX_PODS]:
        restarts = f", {pod.restarts} restarts" if pod.restarts else ""
        last = f" (last {clock(pod.last_restart, now)})" if pod.last_restart else ""
        lines.append(f"• pod {safe(pod.name, 80)}: {safe(pod.status, 60)}{restarts}{last}")
    if len(bad) > MAX_PODS:
        lines.append(f"• … and {len(bad) - MAX_PODS} more pods not OK")
    return lines


def slo_section(snap: object) -> list[str]:
    if not isinstance(snap, SloSnapshot) or not snap.upstreams:
        return []
    lines = ["*SLO (last 5 min, from the access logs)*"]
    by_name = {u.name: u for u in snap.upstreams}
    names = [n for n in SLO_ORDER if n in by_name]
    names += [n for n in by_name if n not in SLO_ORDER]
    lines += [slo_line(by_name[name]) for name in names]
    for burn in snap.burn:
        if burn.firing:
            figure = f"{burn.long_burn:.1f}×" if burn.long_burn is not None else "-"
            lines.append(
                f"• error budget ({snap.objective_pct:g} %) burning {figure} over "
                f"{safe(burn.long_window, 10)}/{safe(burn.short_window, 10)} "
                f"(alert at {burn.factor:g}×)"
            )
    return lines


def slo_line(upstream: UpstreamSlo) -> str:
    w = upstream.five_minutes
    p99 = duration_ms(w.p99_ms) if w.p99_ms is not None else "-"
    mark = "" if upstream.level is Level.OK else f" [{upstream.level.label}]"
    return (
        f"• {safe(upstream.name, 40)}: {w.rps:.1f} req/s · err {pct(w.error_pct, 2)}"
        f" · p99 {p99}{mark}"
    )


def alerts_section(snap: object, now: datetime) -> list[str]:
    if not isinstance(snap, PrometheusSnapshot) or not snap.configured:
        return []
    firing = [a for a in snap.alerts if a.state == "firing"]
    pending = len(snap.alerts) - len(firing)
    if not firing:
        return [f"*Alerts:* none firing ({pending} pending)"] if pending else []
    lines = [f"*Firing alerts ({len(firing)})*"]
    for alert in firing[:MAX_ALERTS]:
        severity = f" ({safe(alert.severity, 20)})" if alert.severity else ""
        since = f" since {clock(alert.since, now)}" if alert.since else ""
        summary = f" — {safe(alert.summary, 160)}" if alert.summary else ""
        runbook = f" — runbook: {safe(alert.runbook, 60)}" if alert.runbook else ""
        lines.append(f"• {safe(alert.name, 80)}{severity}{since}{summary}{runbook}")
    if len(firing) > MAX_ALERTS:
        lines.append(f"• … and {len(firing) - MAX_ALERTS} more")
    if pending:
        lines.append(f"({pending} pending)")
    return lines


def actions_taken(
    entries: Iterable[Mapping[str, Any]], since: datetime | None = None
) -> list[Mapping[str, Any]]:
    """The journal's executed actions, oldest first, from `since` on: one line per run
    (its outcome; an intent with none is kept, as interrupted).  Dry runs, refusals and
    cancellations changed nothing and are left out."""
    by_run: dict[str, Mapping[str, Any]] = {}
    order: list[str] = []
    for index, entry in enumerate(entries):
        if entry.get("mode") == "dry-run":
            continue
        run = str(entry.get("run") or f"#{index}")
        if entry.get("outcome") not in TAKEN:
            by_run.pop(run, None)  # e.g. refused under the intent's run id
            continue
        moment = entry_time(entry)
        if since is not None and (moment is None or moment < since) and run not in by_run:
            continue
        if run not in by_run:
            order.append(run)
        if entry.get("outcome") != "started" or run not in by_run:
            by_run[run] = entry  # the outcome replaces its intent
    return [by_run[run] for run in order if run in by_run]


def entry_time(entry: Mapping[str, Any]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(entry.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def actions_section(
    journal: Sequence[Mapping[str, Any]], now: datetime, since: datetime | None = None
) -> list[str]:
    taken = actions_taken(journal, since)
    if not taken:
        return ["*Actions taken:* none recorded in the cockpit's journal"]
    lines = ["*Actions taken (cockpit journal, oldest first)*"]
    if len(taken) > MAX_ACTIONS:
        lines.append(f"• … {len(taken) - MAX_ACTIONS} earlier")
    for entry in taken[-MAX_ACTIONS:]:
        lines.append("• " + action_line(entry, now))
    return lines


def action_line(entry: Mapping[str, Any], now: datetime) -> str:
    moment = entry_time(entry)
    when = moment.astimezone(UTC).strftime("%H:%M") if moment else "?"
    plan = entry.get("plan") or {}
    what = plan.get("title") if isinstance(plan, Mapping) else None
    what = what or entry.get("action") or "?"
    outcome = str(entry.get("outcome", "?"))
    if outcome == "started":
        outcome = "NO OUTCOME RECORDED (interrupted?)"
    detail = entry.get("error") or entry.get("message") or ""
    detail = f": {safe(detail, 120)}" if detail else ""
    who = f"{safe(entry.get('os_user') or '?', 40)}"
    return f"{when} {who} — {safe(what, 120)} — {safe(outcome, 40)}{detail}"


def links_section(links: Mapping[str, str]) -> list[str]:
    """The contacts' links an incident needs (all of them when none of those is set)."""
    chosen = {name: links[name] for name in INCIDENT_LINKS if links.get(name)} or links
    if not chosen:
        return []
    shown = " · ".join(f"{safe(name, 30)} {safe(url, 200)}" for name, url in chosen.items())
    return [f"*Links:* {shown}"]


def bounded(text: str, max_chars: int) -> str:
    """At most `max_chars`, cut at a line with a note saying how much was left out."""
    if len(text) <= max_chars:
        return text
    note = "\n… (truncated: {} more characters; the cockpit shows the rest)"
    keep = text[: max_chars - len(note.format(len(text)))]
    keep = keep[: keep.rfind("\n")] if "\n" in keep else keep
    return keep + note.format(len(text) - len(keep))


def journal_since(state: IncidentState, hours: float) -> datetime:
    """Which journal entries count: since the incident began (as the cockpit saw it), or
    the last `hours` when it began earlier than this session knows, whichever is earlier."""
    window = state.now - timedelta(hours=hours)
    if state.degraded_since is None:
        return window
    return min(window, state.degraded_since)
