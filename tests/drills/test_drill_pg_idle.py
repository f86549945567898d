"""Fire drill: PostgreSQL connections used up by idle sessions (`cockpit demo --scenario
incident`'s own PostgreSQL).

Runbook, "데이터베이스 연결 오류": count `pg_stat_activity`, then
`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle' AND
state_change < now() - interval '10 minutes'`.  The demo stages a leaky pool (40 idle
sessions of the app's role), one worker idle in transaction holding a row lock with
three sessions blocked behind it, and a long query; it shortens the idle threshold to
30 s.  In the cockpit: the PostgreSQL pane turns yellow then red on the blocked sessions
and counts the idle ones; `9` focuses it, `K` terminates the idle sessions (the
threshold typed down to 1 s, since the staged sessions are seconds old; `terminate`
typed to confirm), `v` to the blocked view and `x` ends the idle-in-transaction
blocker, `v` to the longest-running view and `c` cancels the long query.  The fix is
checked on the server: none of the app's idle sessions is left, nothing is idle in
transaction or waiting on a lock, no long query runs, the cockpit's own connection
survived, and the pane is healthy again.
"""

from __future__ import annotations

from pathlib import Path

from cockpit.demo.servers import DemoServers
from cockpit.demo.staging import APP_ROLE, APPS, BLOCKED_SESSIONS, IDLE_SESSIONS
from cockpit.model import Level, PgSession
from cockpit.sim.runner import SimCluster
from tests.drills.helpers import (
    SIZE,
    confirm_with_keys,
    demo_settings,
    focus_pane,
    in_warning_colour,
    launch,
    move_to_row,
    outcome,
    shows_level,
)
from tests.pilot import cockpit_running, wait_for
from widgets.confirm import ConfirmScreen
from widgets.postgres import PostgresPane

SERVER_STATE = """
SELECT count(*) FILTER (WHERE state = 'idle' AND application_name = ANY(%(apps)s)) AS idle,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%%') AS idle_in_tx,
       count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting,
       count(*) FILTER (WHERE state = 'active' AND query LIKE '%%pg_sleep(3600)%%') AS long,
       count(*) FILTER (WHERE usename = %(role)s) AS app_sessions,
       count(*) FILTER (WHERE application_name = 'cockpit') AS cockpit
  FROM pg_stat_activity
 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()
"""


def server_state(servers: DemoServers) -> dict[str, int]:
    assert servers.pg is not None
    with servers.pg.connect() as conn:
        cur = conn.execute(SERVER_STATE, {"apps": list(APPS), "role": APP_ROLE})
        row = cur.fetchone()
        assert row is not None and cur.description is not None
        return {col.name: int(value) for col, value in zip(cur.description, row, strict=True)}


async def switch_view(pilot, pane: PostgresPane, view: str) -> None:
    for _ in range(4):
        if pane.view == view:
            return
        await pilot.press("v")
    raise AssertionError(f"v did not reach the {view} view")


async def test_idle_sessions_blocker_and_long_query_ended(
    incident_sim: SimCluster, demo_servers: DemoServers, tmp_path: Path
) -> None:
    before = server_state(demo_servers)
    assert before["idle"] == IDLE_SESSIONS and before["idle_in_tx"] == 1
    assert before["waiting"] == BLOCKED_SESSIONS and before["long"] == 1
    app = launch(demo_settings(incident_sim, tmp_path, servers=demo_servers), demo_servers)
    async with cockpit_running(app, size=SIZE) as pilot:
        pane = app.main.query_one(PostgresPane)
        # The incident on screen: the pane in its warning colour, blocked sessions,
        # the 40 idle ones counted, the demo's 30 s threshold.
        await wait_for(
            pilot,
            lambda: pane.snapshot is not None and in_warning_colour(pane),
            timeout=20,
            what="the PostgreSQL pane in its warning colour",
        )
        snap = pane.snapshot
        assert snap.idle_threshold_s == 30 and snap.count("idle") >= IDLE_SESSIONS
        assert len(snap.blocked) == BLOCKED_SESSIONS
        assert any("blocked" in problem for problem in snap.problems), snap.problems
        notes = pane.query_one("#pg-notes")
        assert notes.has_class("shown") and "blocked" in str(notes.render())

        # 9: PostgreSQL; K: the runbook's terminate-idle, the threshold typed down.
        await focus_pane(pilot, app, "9", PostgresPane)
        await pilot.press("K")

        def idle_plan(modal: ConfirmScreen) -> None:
            title = modal.plan.title
            assert title.startswith(f"Terminate {IDLE_SESSIONS} session(s) idle > 1 s"), title
            assert modal.plan.confirm_phrase == "terminate"

        await confirm_with_keys(pilot, app, params={"minutes": "1s"}, check=idle_plan)
        entry = await outcome(pilot, app, "postgres.terminate-idle")
        assert entry["outcome"] == "succeeded", entry
        assert len(entry["result"]["terminated"]) == IDLE_SESSIONS, entry["result"]
        assert server_state(demo_servers)["idle"] == 0

        # v to the blocked view: the blocker first; x ends it (its transaction rolls back).
        await switch_view(pilot, pane, "blocked")
        blocker: PgSession = await wait_for(
            pilot,
            lambda: next((s for s in pane.snapshot.blocking if not s.blocked_by), None),
            what="the root blocker",
        )
        assert blocker.state == "idle in transaction"
        await wait_for(pilot, lambda: blocker.key in pane.table.keys_in_order(), what="its row")
        await move_to_row(pilot, pane.table, blocker.key)
        await pilot.press("x")

        def blocker_plan(modal: ConfirmScreen) -> None:
            assert modal.plan.title == f"Terminate PostgreSQL session {blocker.pid}"

        await confirm_with_keys(pilot, app, check=blocker_plan)
        entry = await outcome(pilot, app, "postgres.terminate")
        assert entry["outcome"] == "succeeded", entry
        await wait_for(
            pilot,
            lambda: (
                (state := server_state(demo_servers))["idle_in_tx"] == 0 and state["waiting"] == 0
            ),
            what="the lock released and the blocked sessions through",
        )

        # v to the longest-running view: the long query; c cancels it.
        await switch_view(pilot, pane, "longest")
        long: PgSession = await wait_for(
            pilot,
            lambda: next((s for s in pane.snapshot.longest if "pg_sleep" in s.query), None),
            what="the long query",
        )
        await wait_for(pilot, lambda: long.key in pane.table.keys_in_order(), what="its row")
        await move_to_row(pilot, pane.table, long.key)
        await pilot.press("c")

        def cancel_plan(modal: ConfirmScreen) -> None:
            assert modal.plan.title == f"Cancel the query of PostgreSQL session {long.pid}"

        await confirm_with_keys(pilot, app, check=cancel_plan)
        entry = await outcome(pilot, app, "postgres.cancel")
        assert entry["outcome"] == "succeeded", entry

        # The server: nothing of the incident left, the cockpit's own connection kept.
        after = await wait_for(
            pilot,
            lambda: (state := server_state(demo_servers))["long"] == 0 and state,
            what="the long query gone",
        )
        assert after["idle"] == after["idle_in_tx"] == after["waiting"] == 0, after
        assert after["app_sessions"] <= 1, after  # at most the cancelled query's session
        assert after["cockpit"] >= 1, after

        # The screen: the pane is healthy, no candidates, nothing blocked.
        await wait_for(
            pilot,
            lambda: shows_level(pane, Level.OK) and not pane.snapshot.problems,
            timeout=15,
            what="the PostgreSQL pane healthy",
        )
        snap = pane.snapshot
        assert snap.idle_candidates == 0 and not snap.blocked and snap.waiting == 0
        assert snap.connections < before["app_sessions"]
