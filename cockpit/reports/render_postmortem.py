"""The postmortem as one HTML page."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.reports.charts import line_chart
from cockpit.reports.page import card, chart, document, e, notes, table, tag, when
from cockpit.reports.postmortem import NO_OUTCOME, STALE, Postmortem
from cockpit.units import duration


def _cards(pm: Postmortem) -> str:
    length = (pm.end - pm.start).total_seconds()
    worst = {s: pm.worst(s) for s in pm.sources}
    bad = sorted(s for s, w in worst.items() if w in ("CRIT", STALE))
    firing = [a for a in pm.alerts if a.firing_from is not None]
    failed = [a for a in pm.actions if a.outcome in ("failed", "interrupted", NO_OUTCOME)]
    return (
        '<div class="cards">'
        + card("Recorded", duration(length), f"{len(pm.sources)} sources", "none")
        + card(
            "Panes critical or stale",
            str(len(bad)),
            ", ".join(bad) or "none",
            "crit" if bad else "ok",
        )
        + card(
            "Alerts fired", str(len(firing)), f"{len(pm.alerts)} seen", "crit" if firing else "ok"
        )
        + card(
            "Actions",
            str(len(pm.actions)),
            f"{len(failed)} failed or unfinished" if pm.actions else "none taken",
            "none",
        )
        + "</div>"
    )


def timeline(pm: Postmortem) -> str:
    parts = ["<h2>Level changes per pane</h2>"]
    if not pm.changes:
        return parts[0] + "<p>No pane carried a level in this recording.</p>"
    for source in pm.sources:
        mine = [c for c in pm.changes if c.source == source]
        if not mine:
            continue
        rows = [
            [
                e(when(c.at)),
                tag(c.before) if c.before else e("(first record)"),
                tag(c.after),
                e(c.detail, 400),
            ]
            for c in mine
        ]
        parts.append(
            f"<h3>{e(source)}</h3>" + table(["When", "From", "To", "What it showed"], rows)
        )
    return "".join(parts)


def alerts(pm: Postmortem) -> str:
    if not pm.alerts:
        return "<h2>Alerts</h2><p>No Prometheus alert was pending or firing.</p>"
    rows = [
        [
            e(a.name),
            e(a.severity or "-"),
            e(when(a.first)),
            e(when(a.firing_from)) if a.firing_from else e("never fired (pending only)"),
            e(when(a.until)),
            e(a.summary, 300),
            e(a.labels, 300),
        ]
        for a in pm.alerts
    ]
    headers = ["Alert", "Severity", "First seen", "Firing from", "Last seen", "Summary", "Labels"]
    return "<h2>Alerts</h2>" + table(headers, rows)


def breaches(pm: Postmortem) -> str:
    if not pm.breaches:
        return "<h2>SLO minutes over threshold</h2><p>No SLO figure went past its limit.</p>"
    rows = [
        [
            e(b.upstream),
            e(b.limit.label),
            e(b.limit.words),
            e(f"{b.minutes:.1f}"),
            e(b.limit.show(b.worst)),
        ]
        for b in sorted(pm.breaches, key=lambda b: -b.seconds)
    ]
    return (
        "<h2>SLO minutes over threshold</h2>"
        "<p>One-minute windows of the access logs, against the runbook's limits.</p>"
        + table(["Upstream", "Figure", "Limit", "Minutes past it", "Worst"], rows, numeric={3, 4})
    )


def pods(pm: Postmortem) -> str:
    if not pm.pods:
        return ""
    rows = [[e(when(p.at)), e(p.pod), e(p.what)] for p in pm.pods]
    return "<h2>Pods that came, went or restarted</h2>" + table(["When", "Pod", "What"], rows)


def actions(pm: Postmortem) -> str:
    if not pm.actions:
        return "<h2>Actions</h2><p>No action was journaled during the recording.</p>"
    rows = [
        [
            e(when(a.at)),
            e(a.who),
            e(a.action),
            e(a.targets, 300),
            e(a.mode),
            e(a.outcome),
            e(duration(a.duration_s, ms=False) if a.duration_s is not None else "-"),
            e(a.words, 400),
        ]
        for a in pm.actions
    ]
    headers = ["When", "Who", "Action", "Targets", "Mode", "Outcome", "Took", "Words"]
    return "<h2>Actions</h2>" + table(headers, rows)


def charts(pm: Postmortem) -> str:
    lim = pm.limits
    return (
        "<h2>Charts</h2>"
        + chart(
            line_chart(
                "Error rate (one-minute windows)", pm.error_lines, "%", lim["error_pct"].threshold
            ),
            "error rate",
        )
        + chart(
            line_chart(
                "Response time (one-minute windows)",
                pm.latency_lines,
                "ms",
                lim["p99_ms"].threshold,
                f"p99 limit {lim['p99_ms'].threshold:g} ms",
            ),
            "latency",
        )
        + chart(line_chart("Pod readiness", pm.readiness_lines, "pods"), "pod readiness")
    )


def render_postmortem(pm: Postmortem, name: str, generated: datetime | None = None) -> str:
    generated = generated or datetime.now(UTC)
    problems = [] if pm.sources else ["The recording has no sources."]
    body = (
        _cards(pm)
        + notes(problems)
        + timeline(pm)
        + alerts(pm)
        + breaches(pm)
        + pods(pm)
        + actions(pm)
        + charts(pm)
    )
    return document(f"Postmortem: {name}", f"{when(pm.start)} to {when(pm.end)}", body, generated)
