"""The PostgreSQL source's arithmetic and wording, without a server."""

from __future__ import annotations

import psycopg
import pytest

from cockpit.config import PostgresSettings, Settings
from cockpit.model import Level, PgSession
from cockpit.sources.postgres.build import (
    Counters,
    PgLimits,
    assess,
    rates,
    session_level,
    with_blocking,
)
from cockpit.sources.postgres.conn import libpq_reason, normalise_dsn, pg_error, server_label


def counters(xacts: int, hit: int, read: int, at: float, own: int = 0) -> Counters:
    return Counters(xacts=xacts, blks_hit=hit, blks_read=read, at=at, own=own)


def test_rates_over_measured_time_without_the_cockpits_own_statements() -> None:
    tps, hit = rates(counters(1000, 900, 100, 10.0, own=4), counters(1206, 1890, 110, 12.0, own=6))
    assert tps == pytest.approx((206 - 2) / 2.0)
    assert hit == pytest.approx(990 / 1000)


def test_rates_unknown_first_after_a_reset_and_without_block_access() -> None:
    assert rates(None, counters(5, 5, 5, 1.0)) == (None, None)
    # pg_stat_reset(): counters went backwards, so this interval is unknown, not negative
    assert rates(counters(1000, 900, 100, 10.0), counters(3, 2, 1, 12.0)) == (None, None)
    tps, hit = rates(counters(10, 50, 5, 1.0, own=1), counters(12, 50, 5, 3.0, own=3))
    assert tps == 0.0 and hit is None
    assert rates(counters(10, 50, 5, 1.0), counters(12, 50, 5, 1.0)) == (None, None)


def pg_session(pid: int, state: str = "idle", **kw: object) -> PgSession:
    values: dict[str, object] = dict(
        pid=pid,
        backend_start=None,
        user="u",
        database="d",
        application="a",
        client="",
        state=state,
        wait_event_type="",
        wait_event="",
        backend_type="client backend",
        query="",
        query_start=None,
        xact_start=None,
        state_change=None,
        query_seconds=None,
        xact_seconds=None,
        state_seconds=None,
    )
    values.update(kw)
    return PgSession(**values)  # type: ignore[arg-type]


def test_levels_of_sessions() -> None:
    limits = PgLimits()
    assert session_level(pg_session(1, "idle", state_seconds=9999), limits)[0] is Level.OK
    txn = pg_session(2, "idle in transaction", state_seconds=120)
    assert session_level(txn, limits) == (Level.WARN, "idle in transaction")
    txn = pg_session(2, "idle in transaction (aborted)", state_seconds=700)
    assert session_level(txn, limits)[0] is Level.CRIT
    waiting = pg_session(3, "active", wait_event_type="Lock", blocked_by=(2,), state_seconds=40)
    assert session_level(waiting, limits) == (Level.CRIT, "blocked")
    slow = pg_session(4, "active", query_seconds=100)
    assert session_level(slow, limits) == (Level.WARN, "long query")
    vacuum = pg_session(5, "active", query_seconds=9999, backend_type="autovacuum worker")
    assert session_level(vacuum, limits)[0] is Level.OK


def test_assess_counts_blockers_and_connection_level() -> None:
    th = Settings().thresholds.pg_connections_pct
    sessions = [
        pg_session(1, "idle", idle_candidate=True, state_seconds=900),
        pg_session(2, "idle in transaction", state_seconds=5, xact_seconds=50),
        pg_session(3, "active", wait_event_type="Lock", blocked_by=(2,), state_seconds=3),
        pg_session(4, "active", backend_type="autovacuum worker", query_seconds=5),
        pg_session(5, "", backend_type="", hidden=True),
    ]
    verdict = assess(sessions, PgLimits(), 96.0, th, rtt_ms=1.0)
    assert dict(verdict.by_state) == {
        "active": 1,
        "idle": 1,
        "idle in transaction": 1,
        "idle in transaction (aborted)": 0,
    }
    assert verdict.waiting == 1 and verdict.hidden == 1
    assert [s.pid for s in verdict.idle] == [1]
    assert [s.pid for s in verdict.blocked] == [3]
    holder = next(s for s in verdict.sessions if s.pid == 2)
    assert holder.blocking == (3,)
    assert holder.level is Level.WARN  # takes the level of the wait it causes
    assert verdict.level is Level.CRIT and verdict.connections_level is Level.CRIT
    assert any("connections 96%" in p for p in verdict.problems)
    assert [s.pid for s in verdict.longest][:2] == [2, 4]
    assert with_blocking([pg_session(9)]) == [pg_session(9)]


def settings(dsn: str) -> Settings:
    return Settings(postgres=PostgresSettings(dsn=dsn))


@pytest.mark.parametrize(
    ("raw", "reason", "hint"),
    [
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            'FATAL:  password authentication failed for user "excel_user"',
            'password authentication failed for user "excel_user"',
            "password",
        ),
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            "FATAL:  sorry, too many clients already",
            "too many connections (max_connections is exhausted)",
            "terminate sessions idle > 10 min",
        ),
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            "FATAL:  the database system is starting up",
            "the database system is starting up",
            "reconnects by itself",
        ),
        (
            "consuming input failed: server closed the connection unexpectedly\n\tThis probably",
            "connection lost (server restarted, or the session was terminated)",
            "reconnecting",
        ),
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
            "timeout expired",
            "no answer within 3 s (connect_timeout)",
            "reachable",
        ),
    ],
)
def test_pg_errors_are_worded(raw: str, reason: str, hint: str) -> None:
    err = pg_error(
        psycopg.OperationalError(raw), "10.0.0.5:5432/excel_unified", settings("host=10.0.0.5")
    )
    assert err.message == f"PostgreSQL 10.0.0.5:5432/excel_unified: {reason}"
    assert hint in err.hint


def test_no_password_in_any_wording() -> None:
    secret = "s3cr3t-pw"
    dsn = f"postgresql://excel_user:{secret}@db.internal:6432/excel_unified"
    assert server_label(dsn) == "db.internal:6432/excel_unified"
    err = pg_error(
        psycopg.OperationalError(f"weird failure mentioning {secret}"), "x", settings(dsn)
    )
    assert secret not in err.message and secret not in err.hint
    # libpq echoes a malformed DSN's pieces: the piece after 'missing "="' may be a password
    bad = f"host=db password {secret}"
    err = pg_error(
        psycopg.ProgrammingError(f'missing "=" after "{secret}" in connection info string'),
        server_label(bad),
        settings(bad),
    )
    assert secret not in err.message
    assert "invalid connection string" in err.message


def test_labels_and_dsn_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGHOSTADDR", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    assert server_label("host=::1 port=5433 dbname=x") == "[::1]:5433/x"
    assert server_label("host=/var/run/postgresql user=bob") == "/var/run/postgresql:5432/bob"
    monkeypatch.setenv("PGHOST", "pg.example")
    monkeypatch.setenv("PGDATABASE", "excel_unified")
    assert server_label("") == "pg.example:5432/excel_unified"
    assert server_label("host=a = = =") == "(invalid DSN)"
    assert server_label("service=excel") == "service excel"
    assert normalise_dsn("postgresql+psycopg://u@h/db") == "postgresql://u@h/db"
    assert libpq_reason("") == ""
    assert (
        libpq_reason('connection is bad: connection to server on socket "/tmp/.s" failed: No such')
        == "no such"
    )
