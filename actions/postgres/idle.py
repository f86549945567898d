"""The runbook's remedy for "could not connect to server": terminate idle sessions.

    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE state = 'idle' AND state_change < now() - interval '10 minutes'

`prepare` lists every idle session now (any age), so the modal can re-plan from that
list as the threshold and state filter are edited.  Execution acts only on the sessions
the plan showed (pid AND backend start, so a reused pid is never hit) and re-checks
the condition on the server in the same statement; it never touches the cockpit's own
connections (known by pid and backend start, never by application_name, which any
client may choose), superusers' sessions, replication/WAL senders, or sessions this
role may not signal (those would abort the statement half-way).  The list and the
re-check apply the same rules, so the plan shows what the server would terminate.  The
count reported is the count of `true` the server returned.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg

from actions.base import Action, Param, Plan, Progress, Refused, Result, Risk
from actions.postgres.context import PgActionContext, pids_text
from cockpit.sources.postgres.conn import own_params
from cockpit.sources.postgres.deep import mask_passwords
from cockpit.textsafe import one_line
from cockpit.units import duration, threshold_words

STATES = {
    "idle": ("idle",),
    "idle in transaction": ("idle in transaction", "idle in transaction (aborted)"),
    "both": ("idle", "idle in transaction", "idle in transaction (aborted)"),
}
VERIFY_S = 10.0
POLL_S = 0.1
CONFIRM = "terminate"
HANDFUL = 5  # more sessions than this need a typed confirmation

# The cockpit's own connections, by identity (%(own_pids)s, %(own_starts)s: own_params).
OWN = """EXISTS (
    SELECT 1 FROM unnest(%(own_pids)s::int[], %(own_starts)s::timestamptz[])
                  AS own(pid, backend_start)
     WHERE own.pid = a.pid AND own.backend_start = a.backend_start)"""

# Every idle-ish client session, with what decides whether it may be terminated.  A
# session whose role is not in pg_roles counts as a superuser's, as the re-check has it.
LIST = f"""
SELECT a.pid, a.backend_start, a.usename, a.datname,
       left(a.application_name, 128) AS application_name,
       coalesce(a.client_hostname, host(a.client_addr),
                CASE WHEN a.client_port = -1 THEN 'local' END, '') AS client,
       a.state, extract(epoch FROM now() - a.state_change)::float8 AS idle_s,
       left(a.query, 300) AS query,
       coalesce(r.rolsuper, true) AS superuser,
       (a.pid = pg_backend_pid() OR {OWN}) AS cockpit,
       coalesce(pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
                OR pg_has_role(current_user, a.usesysid, 'USAGE'), false) AS permitted
  FROM pg_stat_activity a
  LEFT JOIN pg_roles r ON r.oid = a.usesysid
 WHERE a.backend_type = 'client backend'
   AND a.state IN ('idle', 'idle in transaction', 'idle in transaction (aborted)')
 ORDER BY a.state_change
"""

HIDDEN = """
SELECT count(*) AS hidden FROM pg_stat_activity
 WHERE backend_type IS NULL AND usename IS NOT NULL
"""

# The server re-checks everything in the statement that terminates.
MATCHING = """
SELECT a.pid, a.backend_start{terminate}
  FROM pg_stat_activity a
  JOIN unnest(%(pids)s::int[], %(starts)s::timestamptz[]) AS shown(pid, backend_start)
    ON shown.pid = a.pid AND shown.backend_start = a.backend_start
  LEFT JOIN pg_roles r ON r.oid = a.usesysid
 WHERE a.backend_type = 'client backend'
   AND a.state = ANY(%(states)s)
   AND a.state_change < now() - make_interval(secs => %(seconds)s)
   AND a.pid <> pg_backend_pid()
   AND NOT {own}
   AND NOT coalesce(r.rolsuper, true)
   AND (pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
        OR pg_has_role(current_user, a.usesysid, 'USAGE'))
"""
TERMINATE = MATCHING.format(own=OWN, terminate=", pg_terminate_backend(a.pid) AS terminated")
DRY_RUN = MATCHING.format(own=OWN, terminate="")

CLIENTS = """
SELECT count(*) FILTER (WHERE backend_type = 'client backend'
                          OR (backend_type IS NULL AND usename IS NOT NULL)) AS clients,
       count(*) FILTER (WHERE (pid, backend_start) IN (
           SELECT * FROM unnest(%(pids)s::int[], %(starts)s::timestamptz[]))) AS remaining
  FROM pg_stat_activity
"""


@dataclass(frozen=True)
class IdleSession:
    """An idle session as `prepare` found it (idle_s: idle for, at that moment)."""

    pid: int
    backend_start: datetime
    user: str
    database: str
    application: str
    client: str
    state: str
    idle_s: float
    query: str
    superuser: bool
    cockpit: bool
    permitted: bool

    def line(self) -> str:
        return (
            f"pid {self.pid:<7} {self.user or '-'} @ {self.database or '-'}  "
            f"app {self.application or '-'}  from {self.client or '-'}  "
            f"{self.state} for {duration(self.idle_s, ms=False)}  last: {self.query or '-'}"
        )


def parse_minutes(text: str) -> float:
    """'10' (minutes), '2.5', '30s', '1m', '1h' -> minutes; ValueError when not."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*", text.lower())
    if not match:
        raise ValueError("the threshold is a number of minutes (or 30s, 2h)")
    value = float(match.group(1))
    unit = match.group(2) or "m"
    minutes = value / 60 if unit.startswith("s") else value * 60 if unit == "h" else value
    if minutes <= 0:
        raise ValueError("the threshold must be more than zero")
    if minutes > 7 * 24 * 60:
        raise ValueError("the threshold is at most a week")
    return minutes


def _who(sessions: list[IdleSession]) -> str:
    """'excel_user 40, sidekiq 2 · apps rails 30, puma 10, -': whose connections go."""

    def top(values: list[str]) -> str:
        counts = Counter(v or "-" for v in values).most_common()
        shown = ", ".join(f"{name} {n}" for name, n in counts[:4])
        return shown + (f", {len(counts) - 4} more" if len(counts) > 4 else "")

    return (
        f"roles {top([s.user for s in sessions])} · apps {top([s.application for s in sessions])}"
    )


@dataclass(frozen=True)
class TerminateIdle(Action):
    id = "postgres.terminate-idle"
    label = "Terminate idle sessions"
    context_kind = "postgres"
    minutes: float = 10.0
    states: str = "idle"  # a key of STATES
    sessions: tuple[IdleSession, ...] = ()
    prepared: bool = False
    server: str = ""
    role: str = ""
    hidden: int = 0  # sessions of other roles whose state this role cannot see

    async def prepare(self, ctx: PgActionContext) -> TerminateIdle:
        rows = await ctx.rows(LIST, own_params())
        hidden = (await ctx.rows(HIDDEN))[0]["hidden"]
        sessions = tuple(
            IdleSession(
                pid=int(r["pid"]),
                backend_start=r["backend_start"],
                user=one_line(r["usename"] or "", 64),
                database=one_line(r["datname"] or "", 64),
                application=one_line(r["application_name"] or "", 64),
                client=one_line(r["client"] or "", 64),
                state=str(r["state"]),
                idle_s=float(r["idle_s"] or 0.0),
                query=one_line(mask_passwords(r["query"] or ""), 160),
                superuser=bool(r["superuser"]),
                cockpit=bool(r["cockpit"]),
                permitted=bool(r["permitted"]),
            )
            for r in rows
        )
        return replace(
            self,
            sessions=sessions,
            prepared=True,
            server=ctx.server,
            role=ctx.role,
            hidden=int(hidden or 0),
        )

    # -- parameters -----------------------------------------------------------------

    def params(self) -> tuple[Param, ...]:
        return (
            Param("minutes", "idle minutes", f"{self.minutes:g}", help="runbook 10; or 30s"),
            Param(
                "states",
                "state",
                self.states,
                choices=tuple(STATES),
                help="or " + " / ".join(k for k in STATES if k != self.states),
            ),
        )

    def with_params(self, values: dict[str, str]) -> TerminateIdle:
        minutes = parse_minutes(values.get("minutes", f"{self.minutes:g}"))
        states = " ".join(values.get("states", self.states).lower().split())
        if states not in STATES:
            raise ValueError("state: one of " + " | ".join(STATES))
        return replace(self, minutes=minutes, states=states)

    # -- the plan -------------------------------------------------------------------

    def matching(self) -> list[IdleSession]:
        """Sessions in the chosen states, idle longer than the threshold (when listed)."""
        wanted = STATES[self.states]
        seconds = self.minutes * 60
        return [s for s in self.sessions if s.state in wanted and s.idle_s >= seconds]

    def targets_now(self) -> tuple[list[IdleSession], dict[str, list[IdleSession]]]:
        targets, skipped = [], {"cockpit": [], "superuser": [], "forbidden": []}
        for s in self.matching():
            if s.cockpit:
                skipped["cockpit"].append(s)
            elif s.superuser:
                skipped["superuser"].append(s)
            elif not s.permitted:
                skipped["forbidden"].append(s)
            else:
                targets.append(s)
        return targets, skipped

    def command(self) -> str:
        states = ", ".join(f"'{s}'" for s in STATES[self.states])
        return (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity\n"
            f" WHERE state IN ({states})\n"
            f"   AND state_change < now() - interval '{self.minutes * 60:g} seconds'\n"
            "   AND backend_type = 'client backend' AND pid <> pg_backend_pid()\n"
            "   AND (pid, backend_start) NOT IN (<the cockpit's own connections>)\n"
            "   AND <not a superuser's>\n"
            "   AND (pid, backend_start) IN (<the sessions listed below>)"
        )

    def plan(self) -> Plan:
        targets, skipped = self.targets_now()
        what = {"idle": "idle", "idle in transaction": "idle in transaction", "both": "idle"}[
            self.states
        ]
        limit = threshold_words(self.minutes * 60)
        warnings = []
        if not self.prepared:
            warnings.append("the sessions have not been listed yet")
        elif not targets:
            warnings.append("no session matches: nothing would be terminated")
        if skipped["cockpit"]:
            warnings.append(
                f"{len(skipped['cockpit'])} cockpit session(s) match and are left alone"
            )
        if skipped["superuser"]:
            warnings.append(
                f"{len(skipped['superuser'])} superuser session(s) match and are left alone"
            )
        if skipped["forbidden"]:
            roles = sorted({s.user for s in skipped["forbidden"]})
            warnings.append(
                f"{len(skipped['forbidden'])} session(s) of {', '.join(roles)} match, but "
                f"role {self.role or '?'} may not signal them (needs pg_signal_backend): "
                "left alone"
            )
        if self.hidden:
            warnings.append(
                f"{self.hidden} session(s) of other roles are hidden from role "
                f"{self.role or '?'} (not in pg_monitor): their state is unknown, left alone"
            )
        if self.states != "idle":
            warnings.append("terminating a session idle in transaction rolls its transaction back")
        details = [
            f"{len(targets)} session(s) {what} > {limit} now "
            f"(the server re-checks each one when executing):",
            *(s.line() for s in targets),
        ]
        total = len(self.sessions)
        # More than a handful is a wide action: type to confirm.  (Not prepared yet:
        # assume the worst, so the first plan is never the lighter one.)
        wide = len(targets) > HANDFUL or not self.prepared
        risk = Risk.HIGH if wide else Risk.MEDIUM
        return Plan(
            action=self.id,
            title=f"Terminate {len(targets)} session(s) {self.states} > {limit}"
            + (f" on {self.server}" if self.server else ""),
            changes=(
                f"pg_terminate_backend on the {len(targets)} session(s) listed below: their "
                "clients lose the connection and must reconnect",
                "only if each is still the same session (pid and start time), still "
                f"{what}, still idle > {limit} when the statement runs",
            ),
            command=self.command(),
            targets=(f"postgres/{self.server or 'server'}",),
            blast_radius=f"{len(targets)} of the {total} idle client connections"
            + (f" ({_who(targets)})" if targets else "")
            + "; connection pools (Rails, Sidekiq) reconnect on their next checkout",
            risk=risk,
            confirm_phrase=CONFIRM if risk is Risk.HIGH else None,
            details=tuple(details),
            lock_key="postgres:terminate-idle",
            warnings=tuple(warnings),
        )

    # -- execution ------------------------------------------------------------------

    def _params(self, targets: list[IdleSession]) -> dict[str, object]:
        return {
            "pids": [s.pid for s in targets],
            "starts": [s.backend_start for s in targets],
            "states": list(STATES[self.states]),
            "seconds": self.minutes * 60,
            **own_params(),  # as they are now: a reconnected cockpit is spared too
        }

    async def execute(self, ctx: PgActionContext, dry_run: bool) -> Result:
        targets, _ = self.targets_now()
        if not targets:
            raise Refused(
                f"no session is {self.states} for more than {threshold_words(self.minutes * 60)} "
                "(that this role may terminate); nothing done"
            )
        params = self._params(targets)
        if dry_run:
            rows = await ctx.rows(DRY_RUN, params)
            pids = sorted(int(r["pid"]) for r in rows)
            return Result(
                True,
                f"dry run: {len(pids)} of the {len(targets)} sessions shown still match and "
                f"would be terminated (pids {pids_text(pids) or 'none'}); nothing changed",
                {"would_terminate": pids},
            )
        before = (await ctx.rows(CLIENTS, params))[0]["clients"]
        try:
            rows = await ctx.mutate(TERMINATE, params)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise Refused(
                f"not permitted: {one_line(str(exc), 200)} (some sessions may already have "
                "been terminated: check the pane)"
            ) from None
        done = sorted((int(r["pid"]), r["backend_start"]) for r in rows if r["terminated"])
        failed = sorted(int(r["pid"]) for r in rows if not r["terminated"])
        matched = {int(r["pid"]) for r in rows}
        left = sorted(s.pid for s in targets if s.pid not in matched)
        parts = [f"terminated {len(done)} session(s)"]
        if done:
            parts[0] += f" (pids {pids_text([p for p, _ in done])})"
        if failed:
            parts.append(f"{len(failed)} returned false (already gone): pids {pids_text(failed)}")
        if left:
            parts.append(
                f"{len(left)} of the {len(targets)} shown no longer matched and were left "
                f"alone: pids {pids_text(left)}"
            )
        return Result(
            True,
            "; ".join(parts),
            {
                "terminated": [p for p, _ in done],
                "starts": [s.isoformat() for _, s in done],
                "returned_false": failed,
                "left_alone": left,
                "clients_before": int(before or 0),
            },
        )

    async def verify(self, ctx: PgActionContext, result: Result, progress: Progress) -> Result:
        pids = list(result.data.get("terminated") or [])
        if not pids:
            return result
        starts = [datetime.fromisoformat(s) for s in result.data["starts"]]
        before = result.data.get("clients_before", 0)
        deadline = time.monotonic() + VERIFY_S
        while True:
            row = (await ctx.rows(CLIENTS, {"pids": pids, "starts": starts}))[0]
            remaining, clients = int(row["remaining"]), int(row["clients"])
            gone = len(pids) - remaining
            progress(gone / len(pids), f"{gone} of {len(pids)} gone; {clients} client connections")
            if remaining == 0:
                return Result(
                    True,
                    f"{result.message}; all gone — client connections {before} → {clients}",
                    {**result.data, "clients_after": clients},
                )
            if time.monotonic() > deadline:
                return Result(
                    False,
                    f"{result.message}; but {remaining} still present after {VERIFY_S:g} s",
                    {**result.data, "clients_after": clients},
                )
            await asyncio.sleep(POLL_S)
