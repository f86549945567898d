"""PostgreSQL actions without a server: plans, parameters, units, the blocking tree."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from actions.base import Risk
from actions.catalog import build, catalog
from actions.postgres import (
    ApplySettings,
    CancelSession,
    ConnectivityTest,
    IdleSession,
    TerminateIdle,
    TerminateSession,
)
from actions.postgres.idle import parse_minutes
from actions.postgres.settings import statement
from cockpit.model import PgSession, PgSettingRow
from cockpit.sources.postgres.deep import (
    blocking_tree,
    check_value,
    compare,
    mask_passwords,
    parse_value,
    shown_value,
    statements_query,
)
from cockpit.units import pg_amount

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def idle(pid: int, idle_s: float, state: str = "idle", **kw: object) -> IdleSession:
    values: dict[str, object] = {
        "pid": pid,
        "backend_start": NOW - timedelta(hours=1, seconds=pid),
        "user": "excel_user",
        "database": "excel_unified",
        "application": "rails",
        "client": "10.0.0.7",
        "state": state,
        "idle_s": idle_s,
        "query": f"SELECT {pid}",
        "superuser": False,
        "cockpit": False,
        "permitted": True,
    }
    values.update(kw)
    return IdleSession(**values)  # type: ignore[arg-type]


def prepared(*sessions: IdleSession, **kw: object) -> TerminateIdle:
    values: dict[str, object] = {
        "sessions": sessions,
        "prepared": True,
        "server": "db:5432/excel_unified",
        "role": "cockpit",
    }
    values.update(kw)
    return TerminateIdle(**values)  # type: ignore[arg-type]


def pane_session(pid: int = 42, state: str = "active", **kw: object) -> PgSession:
    values: dict[str, object] = {
        "pid": pid,
        "backend_start": NOW - timedelta(minutes=5),
        "user": "excel_user",
        "database": "excel_unified",
        "application": "sidekiq",
        "client": "10.0.0.8",
        "state": state,
        "wait_event_type": "",
        "wait_event": "",
        "backend_type": "client backend",
        "query": "UPDATE excel_files SET status = 'x'",
        "query_start": NOW - timedelta(seconds=30),
        "xact_start": NOW - timedelta(seconds=30),
        "state_change": NOW - timedelta(seconds=30),
        "query_seconds": 30.0,
        "xact_seconds": 30.0,
        "state_seconds": 30.0,
    }
    values.update(kw)
    return PgSession(**values)  # type: ignore[arg-type]


# -- the catalog ---------------------------------------------------------------------------


def test_every_postgres_action_is_in_the_catalog_and_built_from_pane_args() -> None:
    ids = {k for k in catalog() if k.startswith("postgres.")}
    assert ids == {
        "postgres.terminate-idle",
        "postgres.cancel",
        "postgres.terminate",
        "postgres.connectivity",
        "postgres.apply-settings",
    }
    for cls in (TerminateIdle, CancelSession, TerminateSession, ConnectivityTest, ApplySettings):
        assert cls.context_kind == "postgres"
    assert ConnectivityTest.mutating is False
    assert all(c.mutating for c in (TerminateIdle, CancelSession, TerminateSession, ApplySettings))
    action = build("postgres.terminate-idle", minutes=10.0)
    assert isinstance(action, TerminateIdle)
    assert action.plan().risk is Risk.HIGH  # not listed yet: the heavier plan
    assert isinstance(build("postgres.cancel", session=pane_session()), CancelSession)


# -- terminate idle: the plan re-plans from the prepared list ------------------------------


def test_threshold_and_state_params_replan_from_the_prepared_list() -> None:
    action = prepared(
        idle(1, 900),
        idle(2, 700),
        idle(3, 300),
        idle(4, 1200, state="idle in transaction"),
        idle(5, 2000, state="idle in transaction (aborted)"),
    )
    plan = action.plan()
    assert plan.title.startswith("Terminate 2 session(s) idle > 10 min")
    assert [line.split()[1] for line in plan.details[1:]] == ["1", "2"]
    assert plan.risk is Risk.MEDIUM and plan.confirm_phrase is None
    assert plan.dry_run_supported
    five = action.with_params({"minutes": "5", "states": "idle"})
    assert [s.pid for s in five.matching()] == [1, 2, 3]
    txn = action.with_params({"minutes": "10", "states": "idle in transaction"})
    assert [s.pid for s in txn.matching()] == [4, 5]
    assert any("rolls its transaction back" in w for w in txn.plan().warnings)
    both = action.with_params({"minutes": "30s", "states": "both"})
    assert len(both.matching()) == 5
    assert "'idle in transaction (aborted)'" in both.plan().command
    # The key is the same whatever the parameters: one terminate at a time.
    assert len({a.plan().key for a in (action, five, txn, both, TerminateIdle())}) == 1


def test_more_than_a_handful_needs_typing() -> None:
    action = prepared(*(idle(100 + i, 700) for i in range(6)))
    plan = action.plan()
    assert plan.risk is Risk.HIGH and plan.confirm_phrase == "terminate"
    fewer = action.with_params({"minutes": "12", "states": "idle"})
    assert fewer.plan().risk is Risk.MEDIUM  # idle 700 s < 12 min: none match
    assert "nothing would be terminated" in " ".join(fewer.plan().warnings)


def test_cockpit_superuser_and_forbidden_sessions_are_left_out_and_said_so() -> None:
    action = prepared(
        idle(1, 900),
        idle(2, 900, application="cockpit", cockpit=True),
        idle(3, 900, user="postgres", superuser=True),
        idle(4, 900, user="billing", permitted=False),
        hidden=3,
    )
    targets, skipped = action.targets_now()
    assert [s.pid for s in targets] == [1]
    assert [len(skipped[k]) for k in ("cockpit", "superuser", "forbidden")] == [1, 1, 1]
    warnings = " ".join(action.plan().warnings)
    assert "1 cockpit session(s)" in warnings
    assert "1 superuser session(s)" in warnings
    assert "billing" in warnings and "pg_signal_backend" in warnings
    assert "3 session(s) of other roles are hidden" in warnings


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("10", 10.0), ("2.5", 2.5), ("30s", 0.5), ("1h", 60.0), (" 3 m ", 3.0), ("90 sec", 1.5)],
)
def test_threshold_words(text: str, minutes: float) -> None:
    assert parse_minutes(text) == pytest.approx(minutes)


@pytest.mark.parametrize("text", ["", "ten", "-1", "0", "0s", "1d", "99999999"])
def test_bad_thresholds_are_refused_in_words(text: str) -> None:
    with pytest.raises(ValueError):
        prepared(idle(1, 900)).with_params({"minutes": text, "states": "idle"})


def test_bad_state_is_refused() -> None:
    with pytest.raises(ValueError, match="one of idle"):
        prepared().with_params({"minutes": "10", "states": "active"})
    assert prepared().with_params({"states": "Idle  In Transaction"}).states == (
        "idle in transaction"
    )


# -- one session -------------------------------------------------------------------------


def test_single_session_plans_say_what_happens_to_it() -> None:
    active = pane_session(state="active")
    cancel = CancelSession(active).plan()
    assert cancel.risk is Risk.LOW
    assert "cancel the running query of pid 42" in cancel.changes[0]
    assert "backend_start = '2026-11-28 02:55:00+00:00'" in cancel.command
    idle_one = CancelSession(pane_session(state="idle")).plan()
    assert "nothing runs to cancel" in idle_one.changes[0]
    term = TerminateSession(pane_session(state="idle in transaction")).plan()
    assert term.risk is Risk.MEDIUM
    assert "rolled back" in term.changes[0]
    assert term.key == cancel.key == "postgres/pid/42"
    hidden = CancelSession(pane_session(backend_start=None)).plan()
    assert any("refused" in w for w in hidden.warnings)
    own = TerminateSession(pane_session(application="cockpit-action")).plan()
    assert "this is a cockpit session" in own.warnings


def test_query_text_in_plans_never_carries_a_password() -> None:
    s = pane_session(query="ALTER ROLE app PASSWORD 's3cret-value'")
    plan = TerminateSession(s).plan()
    assert "s3cret-value" not in " ".join(plan.details)
    assert mask_passwords("create user x with password 'a''b' login") == (
        "create user x with password '****' login"
    )


# -- settings: units -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "unit", "shown"),
    [
        ("16384", "8kB", "128MB"),
        ("32768", "8kB", "256MB"),
        ("524288", "8kB", "4GB"),
        ("4096", "kB", "4MB"),
        ("65536", "kB", "64MB"),
        ("100", "", "100"),
        ("1000", "ms", "1s"),
        ("90", "s", "90s"),
        ("-1", "kB", "-1"),
        ("on", "", "on"),
    ],
)
def test_settings_in_the_units_people_use(setting: str, unit: str, shown: str) -> None:
    vartype = "bool" if setting == "on" else "integer"
    assert shown_value(setting, unit, vartype) == shown


def test_comparisons_are_unit_normalised() -> None:
    assert compare("32768", "8kB", "integer", "256MB") is True
    assert compare("16384", "8kB", "integer", "256MB") is False
    assert compare("131072", "8kB", "integer", "1GB") is True
    assert compare("4096", "kB", "integer", "4MB") is True
    assert compare("4096", "kB", "integer", "4096kB") is True
    assert compare("4096", "kB", "integer", "4096") is True  # a bare number: the unit's
    assert compare("200", "", "integer", "200") is True
    assert compare("100", "", "integer", "200") is False
    assert compare("on", "", "bool", "ON") is True
    assert compare("100", "", "integer", "") is None
    assert compare("4096", "kB", "integer", "4mb") is None  # PostgreSQL's units are cased
    assert parse_value("256", "8kB", "integer") == 256 * 8192


@pytest.mark.parametrize(
    ("amount", "unit", "kind"),
    [
        (8192, "8kB", "memory"),
        (1536 * 1024, "kB", "memory"),
        (256 * 1024**2, "8kB", "memory"),
        (4 * 1024**3, "kB", "memory"),
        (1, "ms", "time"),
        (300_000, "ms", "time"),
        (90_000, "s", "time"),
        (86_400_000, "min", "time"),
    ],
)
def test_amounts_written_in_postgres_units_read_back(amount: int, unit: str, kind: str) -> None:
    """pg_amount (cockpit.units) writes what parse_value, like PostgreSQL, reads back."""
    assert parse_value(pg_amount(amount, kind), unit, "integer") == amount


def row(name: str, setting: str, unit: str, **kw: object) -> PgSettingRow:
    values: dict[str, object] = {
        "name": name,
        "setting": setting,
        "unit": unit,
        "shown": shown_value(setting, unit, "integer"),
        "recommended": "",
        "context": "user",
        "pending_restart": False,
        "source": "default",
        "vartype": "integer",
        "min_val": "64",
        "max_val": "2147483647",
    }
    values.update(kw)
    return PgSettingRow(**values)  # type: ignore[arg-type]


def test_values_are_checked_against_the_servers_range_and_units() -> None:
    work_mem = row("work_mem", "4096", "kB")
    assert check_value(work_mem, " 8MB ") == "8MB"
    assert check_value(work_mem, "DEFAULT") == "default"
    for bad, words in (
        ("lots", "not a size"),
        ("8 mb", "not a size"),
        ("8MB'; DROP TABLE t; --", "not a size"),
        ("32kB", "minimum is 64kB"),
        ("", "a value is needed"),
    ):
        with pytest.raises(ValueError, match=words):
            check_value(work_mem, bad)
    conns = row("max_connections", "100", "", min_val="1", max_val="262143")
    with pytest.raises(ValueError, match="whole number"):
        check_value(conns, "2.5")
    with pytest.raises(ValueError, match="maximum is 262143"):
        check_value(conns, "300000")


def test_alter_system_is_composed_never_interpolated() -> None:
    text = statement("work_mem", "4MB'; DROP TABLE t; --").as_string(None)
    assert text == "ALTER SYSTEM SET \"work_mem\" = '4MB''; DROP TABLE t; --'"
    assert statement("work_mem", "default").as_string(None) == 'ALTER SYSTEM RESET "work_mem"'


def test_apply_settings_plan_old_new_and_restarts() -> None:
    current = (
        row("max_connections", "100", "", context="postmaster", min_val="1", max_val="262143"),
        row("shared_buffers", "32768", "8kB", context="postmaster", min_val="16"),
        row("work_mem", "4096", "kB"),
    )
    action = ApplySettings(
        values=(("max_connections", "200"), ("shared_buffers", "256MB"), ("work_mem", "8MB")),
        current=current,
        prepared=True,
        server="db:5432/excel_unified",
    )
    plan = action.plan()
    assert plan.risk is Risk.HIGH and plan.confirm_phrase == "alter system"
    assert not plan.dry_run_supported
    assert plan.changes == (
        "max_connections: 100 → 200 — takes effect only after a restart of the server "
        "(context postmaster)",
        "work_mem: 4MB → 8MB — takes effect on the reload",
    )
    assert plan.details == ("shared_buffers = 256MB: already 256MB, unchanged",)
    assert plan.command.splitlines() == [
        "ALTER SYSTEM SET \"max_connections\" = '200';",
        "ALTER SYSTEM SET \"work_mem\" = '8MB';",
        "SELECT pg_reload_conf();",
    ]
    assert any("max_connections take(s) effect only after a restart" in w for w in plan.warnings)
    params = {p.name: p for p in action.params()}
    assert params["max_connections"].help == "now 100, restart"
    edited = action.with_params({"work_mem": "16MB"})
    assert "work_mem: 4MB → 16MB" in " ".join(edited.plan().changes)
    with pytest.raises(ValueError, match="work_mem"):
        action.with_params({"work_mem": "16 potatoes"})
    nothing = replace(action, values=(("shared_buffers", "256MB"),))
    assert "nothing to change" in " ".join(nothing.plan().warnings)


# -- deep views, pure parts ---------------------------------------------------------------


def test_slow_query_columns_follow_the_extension_version() -> None:
    new = statements_query("public", ["query", "mean_exec_time", "total_exec_time"]).as_string(None)
    assert '"mean_exec_time"' in new and '"total_exec_time"' in new
    old = statements_query("ext", ["query", "mean_time", "total_time"]).as_string(None)
    assert '"mean_time"' in old and '"total_time"' in old and '"ext".pg_stat_statements' in old


def edge(pid: int, blocker: int, wait: float = 1.0) -> dict[str, object]:
    return {
        "pid": pid,
        "blocker": blocker,
        "wanted_mode": "ShareLock",
        "held_mode": "ExclusiveLock",
        "lock_object": "transaction 7",
        "wait_s": wait,
    }


def test_blocking_tree_roots_first_waiters_under_each_blocker() -> None:
    sessions = {pid: replace(pane_session(pid), state="active") for pid in (1, 2, 3, 4, 5)}
    # 1 blocks 2 and 3; 3 blocks 4; 5 blocks 4 too (two blockers).
    nodes = blocking_tree([edge(2, 1, 5), edge(3, 1, 9), edge(4, 3), edge(4, 5)], sessions)
    shape = [(n.depth, n.session.pid, n.waits_for) for n in nodes]
    assert shape == [(0, 1, None), (1, 3, 1), (2, 4, 3), (1, 2, 1), (0, 5, None), (1, 4, 5)]
    assert nodes[0].blocks == 2 and nodes[1].wanted_mode == "ShareLock"
    # A deadlock not yet broken: a cycle with no root still shows.
    cycle = blocking_tree([edge(1, 2), edge(2, 1)], sessions)
    assert [(n.depth, n.session.pid) for n in cycle] == [(0, 1), (1, 2)]
    # A pid whose session ended meanwhile shows as hidden, not as a crash.
    ghost = blocking_tree([edge(9, 8)], {})
    assert all(n.session.hidden for n in ghost)
