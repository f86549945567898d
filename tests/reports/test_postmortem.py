"""The postmortem of a recorded incident (tests/reports/scene.py): level changes per
pane, the alert, SLO minutes past the limits, the pod restart, the actions, the page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.config import Thresholds
from cockpit.recording.store import RecordingReader
from cockpit.reports.charts import Line, line_chart
from cockpit.reports.figures import limits
from cockpit.reports.postmortem import NO_OUTCOME, Postmortem, build
from tests.reports.scene import HOSTILE, LENGTH_S, Scene, t0_now, write_scene


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    return write_scene(tmp_path / "incident.db", t0_now())


@pytest.fixture
def pm(scene: Scene) -> Postmortem:
    reader = RecordingReader(scene.path)
    try:
        return build(reader, Thresholds())
    finally:
        reader.close()


def changes_of(pm: Postmortem, source: str) -> list[tuple[object, str | None, str]]:
    return [(c.at, c.before, c.after) for c in pm.changes if c.source == source]


def test_level_changes_per_pane(scene: Scene, pm: Postmortem) -> None:
    at = scene.at
    assert changes_of(pm, "pods") == [
        (at(0), None, "OK"),
        (at(20), "OK", "CRIT"),
        (at(60), "CRIT", "OK"),
    ]
    assert changes_of(pm, "health") == [
        (at(0), None, "OK"),
        (at(40), "OK", "STALE"),
        (at(70), "STALE", "OK"),
    ]
    assert changes_of(pm, "prometheus") == [
        (at(0), None, "OK"),
        (at(45), "OK", "WARN"),
        (at(60), "WARN", "CRIT"),
        (at(100), "CRIT", "OK"),
    ]
    # The SLO pane's: every change of level among the recorded snapshots.
    expected = []
    for when, snap in scene.slos:
        if not expected or expected[-1][2] != snap.level.label:
            expected.append((when, expected[-1][2] if expected else None, snap.level.label))
    assert changes_of(pm, "slo") == expected and len(expected) >= 2
    words = {(c.source, c.at): c.detail for c in pm.changes}
    assert words[("pods", at(20))] == "rails-1 CrashLoopBackOff"
    assert words[("health", at(40))] == "health checks: connection refused"
    assert (
        "fastapi" in words[("slo", expected[-2][0])] or "fastapi" in words[("slo", expected[-1][0])]
    )
    assert pm.worst("pods") == "CRIT" and pm.worst("health") == "STALE"


def test_the_alert_the_slo_minutes_and_the_restart(scene: Scene, pm: Postmortem) -> None:
    [alert] = pm.alerts
    assert (alert.name, alert.first, alert.firing_from, alert.until) == (
        "HighErrorRate",
        scene.at(45),
        scene.at(60),
        scene.at(100),
    )
    assert alert.labels == "app=fastapi" and alert.summary == HOSTILE
    # fastapi's error minutes: each recorded snapshot holds until the next one.
    limit = limits(Thresholds())["error_pct"]
    seconds = 0.0
    for (when, snap), (after, _) in zip(scene.slos, scene.slos[1:], strict=False):
        fastapi = next(u for u in snap.upstreams if u.name == "fastapi")
        if (
            fastapi.one_minute.error_pct is not None
            and fastapi.one_minute.error_pct > limit.threshold
        ):
            seconds += (after - when).total_seconds()
    found = {(b.upstream, b.limit.figure): b for b in pm.breaches}
    assert found[("fastapi", "error_pct")].seconds == pytest.approx(seconds)
    assert 50 <= seconds <= LENGTH_S  # the burst ran 60 s; its one-minute window trails it
    assert ("rails", "error_pct") not in found
    assert ("rails", "rps") not in found  # one upstream's share is not judged
    assert [(p.at, p.pod, p.what) for p in pm.pods] == [
        (scene.at(20), "rails-1", "restarted (0 -> 4)"),
        (scene.at(60), "rails-1", "gone"),
        (scene.at(60), "rails-9", "appeared"),
    ]


def test_every_action_with_who_when_and_outcome(scene: Scene, pm: Postmortem) -> None:
    first, second = pm.actions
    assert (first.at, first.action, first.targets, first.outcome) == (
        scene.at(55),  # when it was asked for; the outcome came at 58
        "kube.pod.delete",
        "rails-1",
        "succeeded",
    )
    assert first.who == "alice@ops-1 as alice@corp" and first.duration_s == 2.9
    assert (second.at, second.who, second.outcome, second.words) == (
        scene.at(80),
        "bob@ops-2",
        "refused",
        "the session is read-only",
    )
    assert all(a.outcome != NO_OUTCOME for a in pm.actions)


def test_cockpit_report_writes_one_self_contained_page(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out" / "pm.html"
    assert main(["report", str(scene.path), "--output", str(out)]) == 0
    page = out.read_text()
    for text in ("rails-9", "kube.pod.delete", "alice@ops-1 as alice@corp", "HighErrorRate"):
        assert text in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script" not in page  # nothing to run, and nothing fetched
    assert not re.search(r"""(src|href)=["'](?!data:|https?:)""", page)
    assert page.count('<img class="chart"') == 3
    # Without --output: in the current directory, named with the recording's date.
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(scene.path)]) == 0
    assert (tmp_path / f"postmortem-{scene.t0:%Y-%m-%d-%H%M}.html").is_file()


def test_cockpit_report_refuses_what_is_not_a_recording(tmp_path: Path) -> None:
    assert main(["report", str(tmp_path / "missing.db")]) == 2
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    assert main(["report", str(junk)]) == 2
    assert main(["report"]) == 2


def test_a_chart_draws_hostile_labels_as_text() -> None:
    points = [(1_765_000_000.0 + i, float(i)) for i in range(5)]
    uri = line_chart("$x$ <b>", [Line("$\\frac{1}{0}$", points), Line("a$b", points)], "ms")
    assert uri is not None and uri.startswith("data:image/png;base64,")
    assert line_chart("empty", [Line("none", [(1.0, None)])], "ms") is None


def test_the_end_of_the_recording_bounds_the_last_state(scene: Scene, pm: Postmortem) -> None:
    assert pm.end - pm.start == timedelta(seconds=LENGTH_S)
