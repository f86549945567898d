"""From the rows of one poll to a PgSnapshot: sessions, counts, rates, levels.  No I/O.

Kept apart from the source so the arithmetic (rates from counter deltas, counter
resets, what counts as a problem) is tested without a server.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cockpit.config import Threshold
from cockpit.model import PG_STATES, Level, PgSession
from cockpit.textsafe import one_line
from cockpit.thresholds import level_for

TEXT_LEN = 128  # application names, users, databases
QUERY_LEN = 1000  # characters of query text kept per session (the pane shows one line)
LONGEST = 50  # sessions kept in the "longest running" list


@dataclass(frozen=True)
class PgLimits:
    """When a session is a problem.  The runbook names only the 10-minute idle limit."""

    idle_xact_warn_s: float = 60.0  # idle in transaction: holds locks and snapshots
    idle_xact_crit_s: float = 600.0
    blocked_warn_s: float = 2.0  # waiting for a lock another session holds
    blocked_crit_s: float = 30.0
    active_warn_s: float = 60.0  # one query running this long
    active_crit_s: float = 300.0
    rtt_warn_ms: float = 500.0


# -- rates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Counters:
    xacts: int
    blks_hit: int
    blks_read: int
    at: float  # monotonic seconds
    own: int  # statements the cockpit itself had run when these were read


_PASSWORD_LITERAL = re.compile(r"(?i)(\bpassword\s+)(E?'(?:[^']|'')*'?)")


def mask_passwords(query: str) -> str:
    """Query text with every PASSWORD '...' literal replaced by '****'."""
    if "password" not in query.lower():
        return query
    return _PASSWORD_LITERAL.sub(r"\1'****'", query)


def rates(prev: Counters | None, cur: Counters) -> tuple[float | None, float | None]:
    """(transactions/s, cache hit ratio) between two reads.

    A counter that went backwards (pg_stat_reset, a dropped database, a server that
    lost its statistics) makes that interval unknown rather than negative.  The
    cockpit's own statements are not the application's transactions: they are taken
    out of the count.
    """
    if prev is None:
        return None, None
    elapsed = cur.at - prev.at
    d_xacts = cur.xacts - prev.xacts
    d_hit = cur.blks_hit - prev.blks_hit
    d_read = cur.blks_read - prev.blks_read
    if elapsed <= 0 or d_xacts < 0 or d_hit < 0 or d_read < 0:
        return None, None
    own = max(0, cur.own - prev.own)
    tps = max(0, d_xacts - own) / elapsed
    accesses = d_hit + d_read
    return tps, (d_hit / accesses if accesses else None)


# -- sessions ---------------------------------------------------------------------------


def _seconds(value: float | None) -> float | None:
    return None if value is None else max(0.0, float(value))


def client_text(addr: str | None, hostname: str | None, port: int | None) -> str:
    if hostname:
        return one_line(hostname, TEXT_LEN)
    if addr:
        return one_line(addr, TEXT_LEN)
    if port == -1:
        return "local"  # a unix socket
    return ""


def _age(now: datetime | None, then: datetime | None) -> float | None:
    return None if now is None or then is None else (now - then).total_seconds()


def with_ages(row: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    """The row with query_s, xact_s and state_s: seconds since its timestamps, by the
    server's clock (`now`, its now() when the row was read)."""
    row["query_s"] = _age(now, row["query_start"])
    row["xact_s"] = _age(now, row["xact_start"])
    row["state_s"] = _age(now, row["state_change"])
    return row


def session_from_row(row: Mapping[str, Any]) -> PgSession:
    hidden = row["backend_type"] is None
    blocked_by = tuple(sorted(row["blocked_by"] or ()))
    return PgSession(
        pid=int(row["pid"]),
        backend_start=row["backend_start"],
        user=one_line(row["usename"] or "", TEXT_LEN),
        database=one_line(row["datname"] or "", TEXT_LEN),
        application=one_line(row["application_name"] or "", TEXT_LEN),
        client=client_text(row["client_addr"], row["client_hostname"], row["client_port"]),
        state=one_line(row["state"] or "", 40),
        wait_event_type=one_line(row["wait_event_type"] or "", 40),
        wait_event=one_line(row["wait_event"] or "", 60),
        backend_type=one_line(row["backend_type"] or "", 40),
        query=one_line(mask_passwords(row["query"] or ""), QUERY_LEN),
        query_start=row["query_start"],
        xact_start=row["xact_start"],
        state_change=row["state_change"],
        query_seconds=_seconds(row["query_s"]),
        xact_seconds=_seconds(row["xact_s"]),
        state_seconds=_seconds(row["state_s"]),
        blocked_by=blocked_by,
        idle_candidate=bool(row["idle_candidate"]),
        hidden=hidden,
    )


def session_level(s: PgSession, limits: PgLimits) -> tuple[Level, str]:
    """A session's own level and, when not OK, why, in words."""
    if s.blocked_by:
        wait = s.state_seconds or 0.0
        if wait >= limits.blocked_crit_s:
            return Level.CRIT, "blocked"
        if wait >= limits.blocked_warn_s:
            return Level.WARN, "blocked"
    if s.state.startswith("idle in transaction"):
        held = s.state_seconds or 0.0
        if held >= limits.idle_xact_crit_s:
            return Level.CRIT, "idle in transaction"
        if held >= limits.idle_xact_warn_s:
            return Level.WARN, "idle in transaction"
    if s.state == "active" and s.backend_type == "client backend":
        running = s.query_seconds or 0.0
        if running >= limits.active_crit_s:
            return Level.CRIT, "long query"
        if running >= limits.active_warn_s:
            return Level.WARN, "long query"
    return Level.OK, ""


def with_blocking(sessions: list[PgSession]) -> list[PgSession]:
    """Fill in, for each session, the pids that wait for it."""
    waiters: dict[int, list[int]] = {}
    for s in sessions:
        for pid in s.blocked_by:
            waiters.setdefault(pid, []).append(s.pid)
    if not waiters:
        return sessions
    return [
        replace(s, blocking=tuple(sorted(waiters[s.pid]))) if s.pid in waiters else s
        for s in sessions
    ]


@dataclass(frozen=True)
class ServerCounts:
    """What the server counted over every session, when it sent only some of the rows."""

    by_state: Mapping[str, int]  # client backends by state ("" when the role may not see)
    waiting: int  # sessions waiting on a heavyweight lock
    hidden: int  # sessions whose details the role may not see
    clients: int  # visible client backends (not counting the cockpit)
    idle_candidates: int  # idle past the limit (their rows are always sent)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ServerCounts:
        """From POLL's server row: state_counts follow PG_STATES (every state there is)."""
        counts = row["state_counts"] or ()
        return cls(
            by_state={st: int(n) for st, n in zip(PG_STATES, counts, strict=False) if n},
            waiting=int(row["waiting"] or 0),
            hidden=int(row["hidden"] or 0),
            clients=int(row["clients"] or 0),
            idle_candidates=int(row["idle_candidates"] or 0),
        )


@dataclass(frozen=True)
class Assessed:
    sessions: tuple[PgSession, ...]
    by_state: tuple[tuple[str, int], ...]
    waiting: int
    idle: tuple[PgSession, ...]
    longest: tuple[PgSession, ...]
    blocked: tuple[PgSession, ...]
    hidden: int
    clients: int  # visible client backends (not counting the cockpit)
    level: Level
    problems: tuple[str, ...]
    connections_level: Level


def assess(
    raw: Iterable[PgSession],
    limits: PgLimits,
    connections_pct: float | None,
    threshold: Threshold,
    rtt_ms: float,
    counts: ServerCounts | None = None,
) -> Assessed:
    """Levels, problems and the views' lists from the sessions.

    `counts`, when given, are the server's counts over every session: the rows then
    need only be those the views list (see queries.POLL), and only they take a level.
    Sessions left out are plain idle ones (and hidden ones), whose level is OK.
    """
    sessions = with_blocking(list(raw))
    problems: Counter[str] = Counter()
    leveled = []
    worst = Level.OK
    for s in sessions:
        level, why = session_level(s, limits)
        if level is not Level.OK:
            problems[f"{why} ({level.label})"] += 1
            worst = max(worst, level)
            s = replace(s, level=level)
        leveled.append(s)
    # A blocker takes the level of the worst wait it causes: it is what to look at.
    by_pid = {s.pid: s for s in leveled}
    for s in leveled:
        for pid in s.blocked_by:
            blocker = by_pid.get(pid)
            if blocker is not None and blocker.level < s.level:
                by_pid[pid] = replace(blocker, level=s.level)
    leveled = [by_pid.get(s.pid, s) if s.blocking else s for s in leveled]

    clients = [s for s in leveled if s.backend_type == "client backend"]
    states: Mapping[str, int] = (
        Counter(s.state for s in clients) if counts is None else counts.by_state
    )
    by_state = tuple((state, states.get(state, 0)) for state in PG_STATES[:4])
    by_state += tuple((st, n) for st, n in sorted(states.items()) if st and st not in PG_STATES[:4])
    conn_level = level_for(connections_pct, threshold)
    if conn_level is not Level.OK:
        problems[f"connections {connections_pct:.0f}% of max ({conn_level.label})"] += 1
        worst = max(worst, conn_level)
    if rtt_ms >= limits.rtt_warn_ms:
        problems[f"slow answer: {rtt_ms:.0f} ms"] += 1
        worst = max(worst, Level.WARN)

    idle = sorted((s for s in leveled if s.idle_candidate), key=lambda s: -(s.state_seconds or 0))
    busy = [s for s in leveled if s.state not in ("idle", "")]
    longest = sorted(busy, key=lambda s: -s.running_seconds)[:LONGEST]
    blocked = sorted((s for s in leveled if s.blocked_by), key=lambda s: -(s.state_seconds or 0))
    ordered = sorted(leveled, key=lambda s: (-s.level, -s.running_seconds, s.pid))
    words = tuple(f"{n} {what}" if n > 1 else what for what, n in problems.items())
    return Assessed(
        sessions=tuple(ordered),
        by_state=by_state,
        waiting=sum(1 for s in leveled if s.waiting) if counts is None else counts.waiting,
        idle=tuple(idle),
        longest=tuple(longest),
        blocked=tuple(blocked),
        hidden=sum(1 for s in leveled if s.hidden) if counts is None else counts.hidden,
        clients=len(clients) if counts is None else counts.clients,
        level=worst,
        problems=words,
        connections_level=conn_level,
    )


def short_version(version: str) -> str:
    """'15.20 (Debian 15.20-0+deb12u1)' -> '15.20'."""
    return version.split(" ", 1)[0] if version else ""
