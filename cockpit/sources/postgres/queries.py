"""The SQL the PostgreSQL source runs.  Parameterised; cheap enough to run every 2 s.

One poll is two round trips: `PING` (the runbook's `SELECT 1`, timed as the RTT) and
`POLL`, a single statement that reads the server counters once and every session once,
counts the sessions by state on the server and returns only the rows a view shows.
pg_blocking_pids() takes the lock manager's partition locks, so it runs only for the
sessions that are waiting on a heavyweight lock, not for every row.
"""

from __future__ import annotations

PING = "SELECT 1"

# Once per connection: the session's own limits, what this role may see, and who it is
# (pid and backend start: how terminate-idle recognises the cockpit's own connection).
SETUP = """
SELECT set_config('statement_timeout', %(statement_timeout)s, false),
       pg_backend_pid() AS pid,
       (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())
           AS backend_start,
       current_setting('server_version') AS version,
       current_user AS role,
       current_database() AS database,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS sees_all,
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS has_pgss
"""

# Sessions: client backends and autovacuum workers (they can hold or wait for locks),
# plus the rows a role without pg_read_all_stats sees without a backend_type (other
# roles' sessions: user known, the rest hidden), never the cockpit's own backend.
#
# The sessions are read once (pg_stat_get_activity, the function under the
# pg_stat_activity view, in a MATERIALIZED CTE; user and database names are looked up
# only for the rows sent); the server counts every
# session by state on it, and sends back only the rows a view shows: every session
# that is not plain idle (active, in a transaction, waiting, autovacuum), the idle ones
# past the runbook's limit (the terminate-idle candidates: the pane lists them all),
# and any session another one waits for (an idle session can hold an advisory lock).
# The young idle sessions (most of a healthy pool: 150 of 200) and other roles' hidden
# ones are counted, not sent, unless %(every)s (the pane's "all" view) asks for them.
# The server row is LEFT JOINed so that it comes back even when no session does.
# How long ago each timestamp was is worked out by the source from the server's now()
# (`server_now`): extract(epoch ...) per row and column cost the server more than the
# rest of a row.
POLL = """
WITH a AS MATERIALIZED (
    SELECT s.pid, s.backend_start, s.usesysid, s.datid, s.application_name,
           s.client_addr, s.client_hostname, s.client_port,
           s.state, s.wait_event_type, s.wait_event, s.backend_type, s.query,
           s.query_start, s.xact_start, s.state_change,
           (s.state = 'idle'
            AND s.state_change < now() - make_interval(secs => %(idle_s)s)) AS idle_candidate
      FROM pg_stat_get_activity(NULL) s
     WHERE s.pid <> pg_backend_pid()
       AND (s.backend_type IN ('client backend', 'autovacuum worker')
            OR (s.backend_type IS NULL AND s.usesysid IS NOT NULL))
), waits AS (
    SELECT pid, pg_blocking_pids(pid) AS blocked_by FROM a WHERE wait_event_type = 'Lock'
), counts AS (
    SELECT count(*) FILTER (WHERE backend_type = 'client backend')::int AS clients,
           count(*) FILTER (WHERE backend_type IS NULL)::int AS hidden,
           count(*) FILTER (WHERE wait_event_type = 'Lock')::int AS waiting,
           count(*) FILTER (WHERE idle_candidate)::int AS idle_candidates,
           count(*)::int AS sessions,
           ARRAY[
               count(*) FILTER (WHERE c AND state = 'active'),
               count(*) FILTER (WHERE c AND state = 'idle'),
               count(*) FILTER (WHERE c AND state = 'idle in transaction'),
               count(*) FILTER (WHERE c AND state = 'idle in transaction (aborted)'),
               count(*) FILTER (WHERE c AND state = 'fastpath function call'),
               count(*) FILTER (WHERE c AND state = 'disabled')
           ]::int[] AS state_counts
      FROM (SELECT *, backend_type = 'client backend' AS c FROM a) x
), server AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           current_setting('superuser_reserved_connections')::int AS reserved,
           sum(d.numbackends)::bigint AS numbackends,
           sum(d.xact_commit + d.xact_rollback)::bigint AS xacts,
           sum(d.blks_hit)::bigint AS blks_hit,
           sum(d.blks_read)::bigint AS blks_read,
           CASE WHEN %(with_size)s THEN pg_database_size(current_database()) END AS db_size
      FROM pg_stat_database d
), shown AS (
    SELECT a.*, w.blocked_by
      FROM a LEFT JOIN waits w USING (pid)
     WHERE %(every)s
        OR (a.backend_type IS NOT NULL AND a.state IS DISTINCT FROM 'idle')
        OR a.idle_candidate
        OR a.pid IN (SELECT unnest(blocked_by) FROM waits)
)
SELECT s.max_connections, s.reserved, s.numbackends, s.xacts, s.blks_hit, s.blks_read,
       s.db_size, now() AS server_now,
       c.clients, c.hidden, c.waiting, c.idle_candidates, c.sessions, c.state_counts,
       a.pid, a.backend_start,
       CASE WHEN a.usesysid IS NOT NULL THEN pg_get_userbyid(a.usesysid) END AS usename,
       d.datname,
       left(a.application_name, %(text_len)s) AS application_name,
       host(a.client_addr) AS client_addr, a.client_hostname, a.client_port,
       a.state, a.wait_event_type, a.wait_event, a.backend_type,
       left(a.query, %(query_len)s) AS query,
       a.query_start, a.xact_start, a.state_change,
       a.blocked_by, a.idle_candidate
  FROM server s CROSS JOIN counts c
  LEFT JOIN shown a ON true
  LEFT JOIN pg_database d ON d.oid = a.datid
"""

# The columns of POLL, in order, for tuple rows (cheaper than dict rows).
POLL_COLUMNS = (
    "max_connections",
    "reserved",
    "numbackends",
    "xacts",
    "blks_hit",
    "blks_read",
    "db_size",
    "server_now",
    "clients",
    "hidden",
    "waiting",
    "idle_candidates",
    "sessions",
    "state_counts",
    "pid",
    "backend_start",
    "usename",
    "datname",
    "application_name",
    "client_addr",
    "client_hostname",
    "client_port",
    "state",
    "wait_event_type",
    "wait_event",
    "backend_type",
    "query",
    "query_start",
    "xact_start",
    "state_change",
    "blocked_by",
    "idle_candidate",
)
