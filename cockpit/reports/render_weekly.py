"""The weekly report as one HTML page."""

from __future__ import annotations

from datetime import UTC, datetime

from cockpit.reports import vulns as v
from cockpit.reports.backups_week import WeekBackups
from cockpit.reports.charts import Line, line_chart
from cockpit.reports.figures import LATENCIES, Summary
from cockpit.reports.page import card, chart, document, e, link, notes, table, tag, when
from cockpit.reports.weekly import NONE, WeeklyReport
from cockpit.units import duration, size_words

SUMMARY_HEADERS = [
    "Figure",
    "Runbook limit",
    "Period figure",
    "Median",
    "Worst",
    "Points past the limit",
    "Verdict",
]


def _verdict(s: Summary) -> str:
    if not s.judged:
        return tag("no limit", "none")
    if s.met is None:
        return tag("no data", "none")
    return tag("met", "met") if s.met else tag("missed", "missed")


def _summary_rows(rows: list[Summary]) -> list[list[str]]:
    out = []
    for s in rows:
        share = (
            "-"
            if s.breaching_pct is None
            else f"{s.breaching} of {s.points} ({s.breaching_pct:.0f} %)"
        )
        out.append(
            [
                e(s.limit.label),
                e(s.limit.words if s.judged else "(the service's)"),
                e(s.limit.show(s.overall)),
                e(s.limit.show(s.median)),
                e(s.limit.show(s.worst)),
                e(share),
                _verdict(s),
            ]
        )
    return out


def performance(report: WeeklyReport) -> str:
    parts = [f"<h2>Performance</h2><p>Figures from {e(report.figures_words)}.</p>"]
    if report.figures_source == NONE or not report.traffic:
        parts.append('<div class="note">No figures for this period.</div>')
        return "".join(parts)
    for traffic in report.traffic:
        mine = [s for s in report.summaries if s.upstream == traffic.upstream]
        parts.append(f"<h3>{e(traffic.upstream)}</h3>")
        parts.append(table(SUMMARY_HEADERS, _summary_rows(mine), numeric={2, 3, 4}))
    first = report.traffic[0]
    lim = report.limits
    latency = [Line(f[:3], first.series.get(f, [])) for f in LATENCIES]
    parts.append(
        chart(
            line_chart(
                f"Response time ({first.upstream}): p50, p95, p99",
                latency,
                "ms",
                lim["p99_ms"].threshold,
                f"p99 limit {lim['p99_ms'].threshold:g} ms",
            ),
            "response time trend",
        )
    )
    errors = [Line(t.upstream, t.series.get("error_pct", [])) for t in report.traffic]
    parts.append(
        chart(
            line_chart("Error rate", errors, "%", lim["error_pct"].threshold),
            "error rate",
        )
    )
    rps = [Line(t.upstream, t.series.get("rps", [])) for t in report.traffic]
    parts.append(chart(line_chart("Throughput", rps, "req/s", lim["rps"].threshold), "throughput"))
    if report.asked is not None:
        rows = [[e(name), f"<code>{e(q)}</code>"] for name, q in report.asked.queries.items()]
        parts.append("<h3>The queries</h3>" + table(["Figure", "PromQL"], rows))
    return "".join(parts)


def backups(b: WeekBackups, min_ratio: float) -> str:
    parts = [
        "<h2>Backups</h2>",
        f"<p>Dumps in {e(b.where)} taken in the period, and the Jobs of CronJob "
        f"{e(b.cronjob)} started in it ({e(b.origin)}).</p>",
        notes(b.problems),
    ]
    if b.s3_read:
        ordered = list(b.dumps)
        rows = []
        for i, d in enumerate(ordered):
            before = ordered[i + 1] if i + 1 < len(ordered) else None
            change = "-"
            if before is not None and before.size:
                change = f"{100.0 * (d.size - before.size) / before.size:+.1f} %"
            rows.append([e(when(d.when)), e(d.key), e(size_words(d.size)), e(change)])
        parts.append(f"<h3>{len(ordered)} dumps, {e(size_words(b.total_bytes))} in all</h3>")
        parts.append(table(["Taken", "Key", "Size", "Change"], rows, numeric={2, 3}))
        missing = b.days_without_dump
        if missing:
            days = ", ".join(d.isoformat() for d in missing)
            parts.append(notes([f"No dump taken on {days} (the schedule is daily)."]))
        for small, prev in b.shrunk(min_ratio):
            parts.append(
                notes(
                    [
                        f"{small.key} is {size_words(small.size)}, under {min_ratio:.0%} of "
                        f"the dump before it ({size_words(prev.size)})"
                    ]
                )
            )
    if b.jobs_read:
        now = b.end
        rows = [
            [
                e(j.name),
                tag(j.status),
                e(when(j.started)),
                e(duration(j.duration_s(now))),
                e("manual" if j.manual else "scheduled"),
            ]
            for j in b.jobs
        ]
        failed = len(b.failed_jobs)
        parts.append(f"<h3>{len(b.jobs)} Jobs, {failed} failed</h3>")
        parts.append(table(["Job", "Status", "Started", "Ran for", "How"], rows))
    return "".join(parts)


def vulnerabilities(report: v.VulnReport) -> str:
    parts = [
        "<h2>Image vulnerabilities</h2>",
        f"<p>Source: {e(report.source_words)}.</p>",
        notes(report.problems),
    ]
    if not report.images:
        parts.append(
            '<div class="note">No scan: install Trivy Operator in the cluster, or put '
            "<code>trivy</code> on PATH and run the report again.</div>"
        )
    for img in report.images:
        counts = [[tag(s), f"{img.counts.get(s, 0)}"] for s in v.SEVERITIES]
        parts.append(
            f"<h3>{e(img.app)}: {e(img.image)}</h3>"
            f'<p class="sub">{e(img.origin)}; scanned {e(img.scanned_at or "?")}</p>'
        )
        parts.append(table(["Severity", "Count"], counts, numeric={1}))
        rows = [
            [
                tag(f.severity),
                link(f.link, f.id),
                e(f.package),
                e(f.installed),
                e(f.fixed or "no fix yet"),
                e(f.title, 300),
            ]
            for f in img.important
        ]
        if rows:
            parts.append(
                table(["Severity", "ID", "Package", "Installed", "Fixed in", "Title"], rows)
            )
    return "".join(parts)


def _cards(report: WeeklyReport) -> str:
    met = [s.met for s in report.summaries if s.met is not None]
    missed = sum(1 for m in met if not m)
    perf = (
        card("Performance", "no data", report.figures_source, "none")
        if not met
        else card(
            "Performance",
            f"{len(met) - missed}/{len(met)} met",
            "figures within the runbook's limits",
            "ok" if missed == 0 else "crit",
        )
    )
    b = report.backups
    bad = len(b.failed_jobs) + len(b.days_without_dump) if b.s3_read or b.jobs_read else 0
    back = card(
        "Backups",
        f"{len(b.dumps)} dumps" if b.s3_read else "not read",
        f"{len(b.failed_jobs)} failed Jobs, {len(b.days_without_dump)} days without a dump",
        "none" if not (b.s3_read or b.jobs_read) else ("ok" if bad == 0 else "crit"),
    )
    crit = sum(i.counts.get("CRITICAL", 0) for i in report.vulns.images)
    high = sum(i.counts.get("HIGH", 0) for i in report.vulns.images)
    vul = card(
        "Vulnerabilities",
        f"{crit} critical, {high} high" if report.vulns.images else "no scan",
        report.vulns.source,
        "none" if not report.vulns.images else ("crit" if crit else "warn" if high else "ok"),
    )
    return f'<div class="cards">{perf}{back}{vul}</div>'


def render_weekly(report: WeeklyReport, min_ratio: float, generated: datetime | None = None) -> str:
    generated = generated or datetime.now(UTC)
    body = (
        _cards(report)
        + notes(report.problems)
        + performance(report)
        + backups(report.backups, min_ratio)
        + vulnerabilities(report.vulns)
    )
    title = f"Weekly report: {report.namespace}"
    subtitle = f"{when(report.start)} to {when(report.end)}"
    return document(title, subtitle, body, generated)
