"""The message to the incident channel, built from crafted snapshots (a pure function)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from actions.notify.message import (
    MAX_CHARS,
    Failing,
    IncidentState,
    actions_taken,
    build_message,
    journal_since,
    slack_escape,
    subject,
)
from actions.notify.slack import mask_webhook
from cockpit.config import Contacts
from cockpit.model import (
    Alert,
    BurnRate,
    EndpointHealth,
    HealthSnapshot,
    KubeSnapshot,
    Level,
    PodRow,
    PrometheusSnapshot,
    SloSnapshot,
    UpstreamSlo,
    WindowFigures,
)

NOW = datetime(2026, 11, 28, 3, 12, 45, tzinfo=UTC)
HOSTILE = "<!channel> & <https://evil.example|click> \x1b[31mred\x07"


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def window(rps: float, error_pct: float, p99: float, level: Level = Level.OK) -> WindowFigures:
    requests = int(rps * 300)
    return WindowFigures(
        seconds=300,
        requests=requests,
        rps=rps,
        errors=int(requests * error_pct / 100),
        error_pct=error_pct,
        p50_ms=40,
        p95_ms=300,
        p99_ms=p99,
        error_level=level,
    )


def upstream(name: str, rps: float, err: float, p99: float, level: Level) -> UpstreamSlo:
    return UpstreamSlo(
        name, window(rps, err, p99, level), window(rps, err, p99, level), level=level
    )


def slo() -> SloSnapshot:
    return SloSnapshot(
        upstreams=(
            upstream("all", 152.4, 2.37, 1840, Level.CRIT),
            upstream("rails", 98.1, 0.05, 420, Level.OK),
            upstream("fastapi", 54.3, 6.52, 2950, Level.CRIT),
        ),
        burn=(
            BurnRate("1h", "5m", 14.4, 23.7, 30.1, 3600, True, Level.CRIT),
            BurnRate("6h", "30m", 6, 4.0, 5.0, 3600, False, Level.OK),
        ),
        objective_pct=99.9,
        lines=100_000,
        unparsed=0,
        dropped=0,
        streams=2,
        taken_at=NOW,
        level=Level.CRIT,
    )


def prometheus() -> PrometheusSnapshot:
    return PrometheusSnapshot(
        url="http://prometheus:9090",
        configured=True,
        alerts=(
            Alert("HighErrorRate", "firing", "critical", ago(420), "5xx above 5 % " + HOSTILE,
                  "3. 높은 에러율", level=Level.CRIT),
            Alert("HighMemoryUsage", "pending", "warning", ago(60), "fastapi memory", ""),
        ),
        figures=(),
        taken_at=NOW,
        level=Level.CRIT,
    )  # fmt: skip


def health() -> HealthSnapshot:
    bad = EndpointHealth(
        name="rails-service:3000",
        url="/api/v1/namespaces/excel-unified/services/rails-service:3000/proxy/health",
        via="service proxy",
        status=503,
        ms=12.0,
        history=(),
        app_status="down",
        cert_days=None,
        error="HTTP 503",
        hint="",
        level=Level.CRIT,
        checked_at=NOW,
        failing_since=ago(600),
    )
    good = EndpointHealth("excel-unified.com", "https://excel-unified.com/health", "direct",
                          200, 80.0, (), "ok", 60.0, "", "", Level.OK, NOW)  # fmt: skip
    return HealthSnapshot((bad, good), NOW, Level.CRIT)


def pod(name: str, status: str, level: Level, restarts: int = 0) -> PodRow:
    return PodRow(
        uid=f"uid-{name}", name=name, namespace="excel-unified", app="rails",
        owner_kind="ReplicaSet", owner_name="rails-7d9c", workload="rails", phase="Running",
        status=status, ready=0, total=1, restarts=restarts, last_restart=ago(90),
        created=ago(7200), node="node-1", ip="10.0.0.1", deleting=False, level=level,
    )  # fmt: skip


def kube() -> KubeSnapshot:
    return KubeSnapshot(
        context="prod",
        namespace="excel-unified",
        pods=(
            pod("rails-7d9c-abcde", "CrashLoopBackOff", Level.CRIT, restarts=14),
            pod("rails-7d9c-fghij", "Running", Level.OK),
        ),
        workloads=(),
        taken_at=NOW,
    )


def journal() -> list[dict]:
    def entry(minutes: float, outcome: str, title: str, run: str, **extra: object) -> dict:
        return {
            "time": (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
            "os_user": "alice",
            "action": "pod.restart",
            "run": run,
            "mode": extra.pop("mode", "armed"),
            "outcome": outcome,
            "plan": {"title": title},
            **extra,
        }

    return [
        entry(600, "started", "Restart pod old-one", "r0"),  # before the window
        entry(599, "succeeded", "Restart pod old-one", "r0"),
        entry(9, "started", "Restart pod rails-7d9c-abcde", "r1"),
        entry(8.5, "succeeded", "Restart pod rails-7d9c-abcde", "r1", message="replaced"),
        entry(7, "dry-run ok", "Scale rails to 0", "r2", mode="dry-run"),
        entry(6, "cancelled", "Flush Redis db 0", ""),
        entry(5, "started", "Terminate idle sessions " + HOSTILE, "r3"),
        entry(4.9, "failed", "Terminate idle sessions " + HOSTILE, "r3", error="timeout"),
        entry(3, "started", "Set maxmemory-policy allkeys-lru", "r4"),  # no outcome
        entry(2, "started", "Rollout undo rails", "r5"),
        entry(1.9, "refused", "Rollout undo rails", "r5", error="forbidden"),
    ]


def state(**overrides: object) -> IncidentState:
    values: dict = {
        "level": Level.CRIT,
        "failing": (
            Failing("Pods: 1 crash-looping " + HOSTILE, Level.CRIT, ago(600)),
            Failing("SLO: fastapi error rate 6.52 %", Level.CRIT, ago(300)),
            Failing("Redis WARN", Level.WARN, None),
        ),
        "latest": {"slo": slo(), "prometheus": prometheus(), "health": health(), "pods": kube()},
        "context": "prod",
        "namespace": "excel-unified",
        "now": NOW,
        "degraded_since": ago(600),
    }
    values.update(overrides)
    return IncidentState(**values)  # type: ignore[arg-type]


def test_the_message_has_every_section_from_the_state() -> None:
    st = state()
    text = build_message(st, journal(), Contacts().links, since=journal_since(st, 1))
    lines = text.splitlines()
    assert lines[0] == "*[CRIT] excel-unified* · context prod · 2026-11-28 03:12 UTC"
    # What is failing, and since when.
    assert "Degraded since 03:02 UTC (10m ago), as seen by the cockpit" in text
    assert "• CRIT SLO: fastapi error rate 6.52 % — since 03:07 UTC (5m ago)" in lines
    assert "• WARN Redis WARN" in lines
    assert any(
        line.startswith("• health rails-service:3000 503: HTTP 503 — since 03:02 UTC")
        for line in lines
    )
    assert (
        "• pod rails-7d9c-abcde: CrashLoopBackOff, 14 restarts (last 03:11 UTC (90s ago))" in lines
    )
    assert "rails-7d9c-fghij" not in text  # an OK pod is not news
    # SLO figures: all, rails, fastapi in that order, with req/s, error % and p99.
    slo_lines = [line for line in lines if line.startswith(("• all:", "• rails:", "• fastapi:"))]
    assert slo_lines == [
        "• all: 152.4 req/s · err 2.37% · p99 1.8s [CRIT]",
        "• rails: 98.1 req/s · err 0.05% · p99 420ms",
        "• fastapi: 54.3 req/s · err 6.52% · p99 3.0s [CRIT]",
    ]
    assert "• error budget (99.9 %) burning 23.7× over 1h/5m (alert at 14.4×)" in lines
    assert "6h/30m" not in text  # not firing
    # Firing alerts (the pending one only counted).
    assert "*Firing alerts (1)*" in lines
    assert any(line.startswith("• HighErrorRate (critical) since 03:05 UTC") for line in lines)
    assert "runbook: 3. 높은 에러율" in text
    assert "HighMemoryUsage" not in text and "(1 pending)" in lines
    # Links from the contacts.
    assert lines[-1] == (
        "*Links:* status https://status.excel-unified.com · monitoring "
        "https://monitoring.excel-unified.com · logs https://logs.excel-unified.com · "
        "incidents https://jira.excel-unified.com"
    )
    # None of those four: every link, escaped like any other text.
    other = build_message(st, links={"wiki": "https://w.example/?a=1&b=2"})
    assert other.splitlines()[-1] == "*Links:* wiki https://w.example/?a=1&amp;b=2"


def test_actions_taken_are_the_executed_ones_of_the_window_oldest_first() -> None:
    st = state()
    text = build_message(st, journal(), since=journal_since(st, 1))
    section = text[text.index("*Actions taken") :].splitlines()
    assert section[1] == "• 03:04 alice — Restart pod rails-7d9c-abcde — succeeded: replaced"
    assert section[2].startswith("• 03:07 alice — Terminate idle sessions &lt;!channel&gt;")
    assert section[2].endswith("— failed: timeout")
    assert section[3] == (
        "• 03:09 alice — Set maxmemory-policy allkeys-lru — NO OUTCOME RECORDED (interrupted?)"
    )
    assert len(section) == 4  # not the dry run, the cancellation, the refusal, the old one
    assert "old-one" not in text
    # With a longer window the old one is in, first.
    older = build_message(st, journal(), since=NOW - timedelta(hours=12))
    assert "Restart pod old-one — succeeded" in older
    assert [e["run"] for e in actions_taken(journal())] == ["r0", "r1", "r3", "r4"]


def test_hostile_text_cannot_ping_link_or_reach_the_terminal() -> None:
    text = build_message(state(), journal(), since=NOW - timedelta(hours=1))
    assert "<" not in text and ">" not in text  # no <!channel>, no <url|label>
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "\x1b" not in text and "\x07" not in text  # shown as control pictures
    assert "␛[31mred␇" in text
    assert slack_escape("a & <b> > c") == "a &amp; &lt;b&gt; &gt; c"


def test_a_missing_snapshot_leaves_its_section_out_and_ok_says_so() -> None:
    calm = IncidentState(level=Level.OK, failing=(), latest={}, context="", now=NOW)
    text = build_message(calm)
    assert text.splitlines()[0] == "*[OK] the service* · 2026-11-28 03:12 UTC"
    assert "every pane is OK" in text
    assert "SLO" not in text and "alerts" not in text.lower()
    assert "*Actions taken:* none recorded" in text
    # An unconfigured Prometheus says nothing about alerts.
    quiet = PrometheusSnapshot("", False, (), (), NOW, message="no Prometheus")
    assert "lert" not in build_message(state(latest={"prometheus": quiet}))


def test_the_size_is_bounded_with_a_note() -> None:
    many = tuple(Failing(f"Pane {i}: " + "x" * 200, Level.CRIT, ago(60)) for i in range(12))
    busy = [
        {"time": NOW.isoformat(), "os_user": "bob", "outcome": "succeeded", "run": f"r{i}",
         "mode": "armed", "plan": {"title": "y" * 300}}
        for i in range(40)
    ]  # fmt: skip
    text = build_message(state(failing=many), busy, Contacts().links)
    assert len(text) <= MAX_CHARS
    assert "… (truncated:" in text.splitlines()[-1]
    roomy = build_message(state(), busy, max_chars=100_000)
    assert "• … 25 earlier" in roomy and roomy.count("— succeeded") == 15
    small = build_message(state(failing=many), busy, max_chars=500)
    assert len(small) <= 500 and small.startswith("*[CRIT] excel-unified*")


def test_subject_and_webhook_mask() -> None:
    assert subject(state(), "[{level}] {namespace} incident ({context})") == (
        "[CRIT] excel-unified incident (prod)"
    )
    assert subject(state(context="a\nb"), "{context}") == "a b"  # no header injection
    url = "https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdefSECRETxyz"
    assert mask_webhook(url) == "https://hooks.slack.com/services/T…/****"
    assert mask_webhook("http://user:pw@127.0.0.1:8080/hook?k=secret") == (
        "http://127.0.0.1:8080/hook/****"
    )
    assert mask_webhook("not a url") == "****"
