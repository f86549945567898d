"""The PostgreSQL deep views: slow queries, index usage, settings, the blocking tree.

Read on demand (a key in the pane), not polled, over the action connection.  Each part
is read on its own: a missing extension or privilege empties that part and says why
in its note; the others still show.  A lost connection is raised (the caller
reconnects).  The unit arithmetic for settings lives here too, because the settings
view and the apply-settings action must agree on what "256MB" is (PostgreSQL's unit
tables and the writing of amounts, pg_amount, are in cockpit.units).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from cockpit.model import (
    PgBlockNode,
    PgDeepSnapshot,
    PgIndexUsage,
    PgSession,
    PgSettingRow,
    PgStatement,
)
from cockpit.sources.postgres.build import TEXT_LEN, mask_passwords, session_from_row
from cockpit.sources.postgres.conn import connected_label
from cockpit.textsafe import one_line
from cockpit.units import PG_MEMORY, PG_TIME, pg_amount

STATEMENT_LEN = 2000  # characters of query text per statement (the view wraps it)
INDEX_LIMIT = 200
TREE_LIMIT = 500  # nodes in the blocking tree

# CREATE/ALTER ROLE ... PASSWORD '...' is kept verbatim by pg_stat_statements and
# pg_stat_activity: never show (or journal) the literal.


# -- units ----------------------------------------------------------------------------

_UNIT = re.compile(r"^(\d+)?\s*([A-Za-z]+)$")
_VALUE = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*([A-Za-z]+)?$")


def unit_scale(unit: str) -> tuple[str, float] | None:
    """pg_settings' unit as (kind, size of one unit): "8kB" -> ("memory", 8192).

    kind is "memory" (bytes), "time" (milliseconds) or "" (a plain number); None for a
    unit this code does not know.
    """
    if not unit:
        return "", 1.0
    match = _UNIT.match(unit.strip())
    if not match:
        return None
    count = float(match.group(1) or 1)
    name = match.group(2)
    if name in PG_MEMORY:
        return "memory", count * PG_MEMORY[name]
    if name in PG_TIME:
        return "time", count * PG_TIME[name]
    return None


def parse_value(text: str, unit: str, vartype: str, name: str = "the setting") -> float | None:
    """A value as PostgreSQL reads it, in bytes / ms / plain; None if not numeric.

    A bare number is in the setting's own unit (shared_buffers = 256 is 256 × 8kB), as
    in postgresql.conf.  Raises ValueError with a readable message for nonsense.
    """
    if vartype not in ("integer", "real"):
        return None
    scale = unit_scale(unit)
    if scale is None:
        return None
    kind, size = scale
    match = _VALUE.match(text.strip())
    if not match:
        raise ValueError(f"{name}: {text.strip()!r} is not a {_expected(kind)}")
    number = float(match.group(1))
    suffix = match.group(2)
    if suffix is None:
        return number * size
    table = PG_MEMORY if kind == "memory" else PG_TIME if kind == "time" else {}
    if suffix not in table:
        raise ValueError(f"{name}: {text.strip()!r} is not a {_expected(kind)}")
    return number * table[suffix]


def _expected(kind: str) -> str:
    if kind == "memory":
        return "size like 256MB (units B, kB, MB, GB, TB; case matters)"
    if kind == "time":
        return "duration like 30s (units us, ms, s, min, h, d)"
    return "number"


def shown_value(setting: str, unit: str, vartype: str) -> str:
    """pg_settings' raw value in words: ("16384", "8kB") -> "128MB"."""
    scale = unit_scale(unit)
    if vartype not in ("integer", "real") or scale is None or not scale[0]:
        return setting
    try:
        number = float(setting)
    except ValueError:
        return setting
    if number < 0:
        return setting  # -1 means "use another setting" for several of these
    return pg_amount(number * scale[1], scale[0])


def same_value(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def compare(setting: str, unit: str, vartype: str, wanted: str) -> bool | None:
    """Does the current value equal the wanted one, units normalised?  None: can't tell."""
    if not wanted:
        return None
    try:
        current = parse_value(setting, unit, vartype)
        target = parse_value(wanted, unit, vartype)
    except ValueError:
        return None
    if current is None or target is None:
        if vartype in ("bool", "enum", "string"):
            return setting.strip().lower() == wanted.strip().lower()
        return None
    return same_value(current, target)


def check_value(row: PgSettingRow, value: str) -> str:
    """The value normalised for ALTER SYSTEM, or ValueError with a readable reason."""
    text = value.strip()
    if not text:
        raise ValueError(f"{row.name}: a value is needed (or 'default' to reset it)")
    if text.lower() == "default":
        return "default"
    if len(text) > 200 or any(ord(c) < 32 for c in text):
        raise ValueError(f"{row.name}: that is not a value PostgreSQL takes")
    amount = parse_value(text, row.unit, row.vartype, row.name)
    if amount is None:
        return text
    scale = unit_scale(row.unit)
    assert scale is not None  # parse_value returned a number
    kind, size = scale
    if row.vartype == "integer" and not kind and not float(text).is_integer():
        raise ValueError(f"{row.name}: a whole number is needed")
    for bound, lower in ((row.min_val, True), (row.max_val, False)):
        try:
            limit = float(bound) * size
        except ValueError:
            continue
        outside = amount < limit if lower else amount > limit
        if outside and not same_value(amount, limit):
            shown = pg_amount(limit, kind) if kind else f"{limit:g}"
            word = "minimum" if lower else "maximum"
            raise ValueError(f"{row.name}: the server's {word} is {shown}")
    return text


# -- reading ----------------------------------------------------------------------------

SETTINGS = """
SELECT name, setting, coalesce(unit, '') AS unit, vartype, context, pending_restart,
       source, coalesce(min_val, '') AS min_val, coalesce(max_val, '') AS max_val
  FROM pg_settings
 WHERE name = ANY(%(names)s)
"""


def setting_row(row: Mapping[str, Any], recommended: str) -> PgSettingRow:
    setting = str(row["setting"] or "")
    unit = str(row["unit"] or "")
    vartype = str(row["vartype"] or "")
    return PgSettingRow(
        name=str(row["name"]),
        setting=setting,
        unit=unit,
        shown=shown_value(setting, unit, vartype),
        recommended=recommended,
        context=str(row["context"] or ""),
        pending_restart=bool(row["pending_restart"]),
        source=str(row["source"] or ""),
        vartype=vartype,
        min_val=str(row["min_val"] or ""),
        max_val=str(row["max_val"] or ""),
        matches=compare(setting, unit, vartype, recommended),
    )


async def read_settings(
    conn: psycopg.AsyncConnection, names: Sequence[str], recommended: Mapping[str, str]
) -> tuple[PgSettingRow, ...]:
    """The named settings, in the order asked for; unknown names are left out."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(SETTINGS, {"names": list(names)})
    rows = {r["name"]: r for r in await cur.fetchall()}
    return tuple(setting_row(rows[n], recommended.get(n, "")) for n in names if n in rows)


PGSS_SCHEMA = """
SELECT n.nspname AS schema, e.extversion AS version,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = (quote_ident(n.nspname) || '.pg_stat_statements')::regclass
                AND a.attnum > 0 AND NOT a.attisdropped) AS columns
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'pg_stat_statements'
"""


def statements_query(schema: str, columns: Iterable[str], *, texts: bool = True) -> sql.Composed:
    """The top rows by each measure; PG13 renamed mean_time/total_time to *_exec_time.
    Without texts, pg_stat_statements(false): every query is NULL."""
    names = set(columns)
    total = "total_exec_time" if "total_exec_time" in names else "total_time"
    mean = "mean_exec_time" if "mean_exec_time" in names else "mean_time"
    return sql.SQL(
        """
SELECT queryid, query, calls, total_ms, mean_ms, rows, usename, datname FROM (
  SELECT s.queryid, left(s.query, %(query_len)s) AS query, s.calls,
         s.{total}::float8 AS total_ms, s.{mean}::float8 AS mean_ms, s.rows,
         r.rolname AS usename, d.datname,
         rank() OVER (ORDER BY s.{mean} DESC NULLS LAST) AS by_mean,
         rank() OVER (ORDER BY s.{total} DESC NULLS LAST) AS by_total,
         rank() OVER (ORDER BY s.calls DESC NULLS LAST) AS by_calls,
         rank() OVER (ORDER BY s.rows DESC NULLS LAST) AS by_rows
    FROM {schema}.pg_stat_statements{args} s
    LEFT JOIN pg_roles r ON r.oid = s.userid
    LEFT JOIN pg_database d ON d.oid = s.dbid
) ranked
WHERE by_mean <= %(limit)s OR by_total <= %(limit)s OR by_calls <= %(limit)s
   OR by_rows <= %(limit)s
ORDER BY mean_ms DESC NULLS LAST
"""
    ).format(
        total=sql.Identifier(total),
        mean=sql.Identifier(mean),
        schema=sql.Identifier(schema),
        args=sql.SQL("" if texts else "(false)"),
    )


HIDDEN_QUERY = "<insufficient privilege>"
NO_TEXT = "<text left out>"
NO_TEXT_NOTE = (
    "statement texts left out: one is not valid in this database's encoding (a client of "
    "a SQL_ASCII database sent it), and the server then refuses to return any"
)


async def _statement_rows(
    cur: psycopg.AsyncCursor[dict[str, Any]], found: Mapping[str, Any], params: dict[str, int]
) -> tuple[list[dict[str, Any]], bool]:
    """(rows, with texts).  pg_stat_statements converts each text to this database's
    encoding and fails the whole read on one it cannot: then read them without texts."""
    try:
        await cur.execute(statements_query(found["schema"], found["columns"]), params)
        return await cur.fetchall(), True
    except psycopg.errors.CharacterNotInRepertoire:
        await cur.execute(statements_query(found["schema"], found["columns"], texts=False), params)
        return await cur.fetchall(), False


async def read_statements(
    conn: psycopg.AsyncConnection, limit: int, role: str, database: str
) -> tuple[tuple[PgStatement, ...], str, int]:
    """(statements, note, hidden) from pg_stat_statements, or why there are none."""
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(PGSS_SCHEMA)
    found = await cur.fetchone()
    if found is None:
        return (
            (),
            f"pg_stat_statements is not installed in database {database}: "
            "CREATE EXTENSION pg_stat_statements (the server also needs "
            "shared_preload_libraries = 'pg_stat_statements' and a restart)",
            0,
        )
    try:
        rows, texts = await _statement_rows(
            cur, found, {"limit": limit, "query_len": STATEMENT_LEN}
        )
    except psycopg.errors.ObjectNotInPrerequisiteState:
        return (
            (),
            "pg_stat_statements is installed but not loaded: add it to "
            "shared_preload_libraries and restart the server",
            0,
        )
    except psycopg.errors.InsufficientPrivilege as exc:
        return (), f"role {role} may not read pg_stat_statements: {one_line(str(exc), 200)}", 0
    statements = []
    hidden = 0
    for r in rows:
        text = r["query"]
        if not texts:
            text = NO_TEXT
        elif text is None or text == HIDDEN_QUERY:
            hidden += 1
            text = HIDDEN_QUERY
        statements.append(
            PgStatement(
                queryid=r["queryid"],
                query=one_line(mask_passwords(text), STATEMENT_LEN),
                calls=int(r["calls"] or 0),
                total_ms=float(r["total_ms"] or 0.0),
                mean_ms=float(r["mean_ms"] or 0.0),
                rows=int(r["rows"] or 0),
                user=one_line(r["usename"] or "", TEXT_LEN),
                database=one_line(r["datname"] or "", TEXT_LEN),
            )
        )
    note = "" if texts else NO_TEXT_NOTE
    if hidden:
        note = (
            f"{hidden} statements of other roles show no text: role {role} is not in "
            f"pg_read_all_stats (GRANT pg_monitor TO {role})"
        )
    return tuple(statements), note, hidden


INDEXES = """
SELECT s.schemaname, s.relname, s.indexrelname, s.idx_scan, s.idx_tup_read, s.idx_tup_fetch,
       {size} AS size, i.indisunique, i.indisprimary, i.indisvalid
  FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
 ORDER BY s.idx_scan ASC, size DESC NULLS LAST, s.schemaname, s.indexrelname
 LIMIT %(limit)s
"""


async def read_indexes(
    conn: psycopg.AsyncConnection, database: str, limit: int = INDEX_LIMIT
) -> tuple[tuple[PgIndexUsage, ...], str]:
    """Indexes of this database, unused first.  Sizes need a brief lock on each index:
    if someone holds an exclusive lock (lock_timeout), they are left out and said so."""
    cur = conn.cursor(row_factory=dict_row)
    note = ""
    try:
        await cur.execute(INDEXES.format(size="pg_relation_size(s.indexrelid)"), {"limit": limit})
    except psycopg.errors.LockNotAvailable:
        note = "sizes left out: a table is locked exclusively right now (see Blocking)"
        await cur.execute(INDEXES.format(size="NULL::bigint"), {"limit": limit})
    rows = await cur.fetchall()
    found = tuple(
        PgIndexUsage(
            schema=one_line(r["schemaname"], TEXT_LEN),
            table=one_line(r["relname"], TEXT_LEN),
            index=one_line(r["indexrelname"], TEXT_LEN),
            scans=int(r["idx_scan"] or 0),
            size_bytes=None if r["size"] is None else int(r["size"]),
            tuples_read=int(r["idx_tup_read"] or 0),
            tuples_fetched=int(r["idx_tup_fetch"] or 0),
            unique=bool(r["indisunique"]),
            primary=bool(r["indisprimary"]),
            valid=bool(r["indisvalid"]),
        )
        for r in rows
    )
    if not found:
        note = f"no user indexes in database {database} (pg_stat_user_indexes is per database)"
    elif len(found) == limit:
        note = note or f"the {limit} least used indexes of database {database}"
    return found, note


# -- the blocking tree -------------------------------------------------------------------

_REL = (
    "CASE WHEN wl.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " THEN wl.relation::regclass::text ELSE 'oid ' || wl.relation END"
)

LOCK_EDGES = f"""
WITH waiters AS (
    SELECT a.pid, b.blocker, a.state_change
      FROM pg_stat_activity a
     CROSS JOIN LATERAL unnest(pg_blocking_pids(a.pid)) AS b(blocker)
     WHERE a.wait_event_type = 'Lock'
)
SELECT DISTINCT ON (w.pid, w.blocker)
       w.pid, w.blocker, wl.mode AS wanted_mode,
       extract(epoch FROM now() - coalesce({{waitstart}}, w.state_change))::float8 AS wait_s,
       CASE wl.locktype
         WHEN 'relation' THEN 'relation ' || {_REL}
         WHEN 'tuple' THEN 'row (' || wl.page || ',' || wl.tuple || ') of ' || {_REL}
         WHEN 'page' THEN 'page ' || wl.page || ' of ' || {_REL}
         WHEN 'extend' THEN 'extension of ' || {_REL}
         WHEN 'transactionid' THEN 'transaction ' || wl.transactionid
         WHEN 'virtualxid' THEN 'virtual transaction ' || wl.virtualxid
         WHEN 'advisory' THEN 'advisory lock ' || wl.classid || '/' || wl.objid
         ELSE coalesce(wl.locktype, '?')
       END AS lock_object,
       (SELECT string_agg(DISTINCT bl.mode || CASE WHEN bl.granted THEN '' ELSE ' (queued)' END,
                          ', ')
          FROM pg_locks bl
         WHERE bl.pid = w.blocker AND bl.locktype = wl.locktype
           AND bl.database IS NOT DISTINCT FROM wl.database
           AND bl.relation IS NOT DISTINCT FROM wl.relation
           AND bl.page IS NOT DISTINCT FROM wl.page
           AND bl.tuple IS NOT DISTINCT FROM wl.tuple
           AND bl.virtualxid IS NOT DISTINCT FROM wl.virtualxid
           AND bl.transactionid IS NOT DISTINCT FROM wl.transactionid
           AND bl.classid IS NOT DISTINCT FROM wl.classid
           AND bl.objid IS NOT DISTINCT FROM wl.objid
           AND bl.objsubid IS NOT DISTINCT FROM wl.objsubid) AS held_mode
  FROM waiters w
  LEFT JOIN pg_locks wl ON wl.pid = w.pid AND NOT wl.granted
 ORDER BY w.pid, w.blocker
"""

# The columns session_from_row wants, for the sessions in the tree.
SESSIONS = """
SELECT a.pid, a.backend_start, a.usename, a.datname,
       left(a.application_name, %(text_len)s) AS application_name,
       host(a.client_addr) AS client_addr, a.client_hostname, a.client_port,
       a.state, a.wait_event_type, a.wait_event, a.backend_type,
       left(a.query, %(query_len)s) AS query,
       a.query_start, a.xact_start, a.state_change,
       extract(epoch FROM now() - a.query_start)::float8 AS query_s,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_s,
       extract(epoch FROM now() - a.state_change)::float8 AS state_s,
       NULL::int[] AS blocked_by, false AS idle_candidate
  FROM pg_stat_activity a
 WHERE a.pid = ANY(%(pids)s)
"""


def lock_edges_query(server_version_num: int) -> str:
    # pg_locks.waitstart (PG14+) says when the wait began; before, the state change.
    waitstart = "wl.waitstart" if server_version_num >= 140000 else "NULL::timestamptz"
    return LOCK_EDGES.replace("{waitstart}", waitstart)


def _unknown_session(pid: int) -> PgSession:
    """A pid in a lock edge whose session ended (or is hidden) before it was read."""
    return PgSession(
        pid=pid,
        backend_start=None,
        user="",
        database="",
        application="",
        client="",
        state="",
        wait_event_type="",
        wait_event="",
        backend_type="",
        query="",
        query_start=None,
        xact_start=None,
        state_change=None,
        query_seconds=None,
        xact_seconds=None,
        state_seconds=None,
        hidden=True,
    )


def blocking_tree(
    edges: Sequence[Mapping[str, Any]], sessions: Mapping[int, PgSession]
) -> tuple[PgBlockNode, ...]:
    """Depth-first from the root blockers (holding, not waiting), most blocked first.

    A waiter with two blockers shows under both.  A cycle (a deadlock the server has
    not broken yet) has no root: its lowest pid stands in for one.
    """
    children: dict[int, list[Mapping[str, Any]]] = {}
    waiting: set[int] = set()
    for edge in edges:
        children.setdefault(int(edge["blocker"]), []).append(edge)
        waiting.add(int(edge["pid"]))
    if not children:
        return ()

    def reach(pid: int, seen: set[int]) -> int:
        count = 0
        for edge in children.get(pid, ()):
            child = int(edge["pid"])
            if child not in seen:
                seen.add(child)
                count += 1 + reach(child, seen)
        return count

    roots = [pid for pid in children if pid not in waiting]
    covered: set[int] = set()
    for pid in roots:
        covered.add(pid)
        reach(pid, covered)
    for pid in sorted(children):  # cycles nothing above reaches
        if pid not in covered:
            roots.append(pid)
            covered.add(pid)
            reach(pid, covered)
    roots.sort(key=lambda pid: (-reach(pid, {pid}), pid))

    nodes: list[PgBlockNode] = []

    def session(pid: int) -> PgSession:
        return sessions.get(pid) or _unknown_session(pid)

    def walk(pid: int, depth: int, edge: Mapping[str, Any] | None, path: set[int]) -> None:
        if len(nodes) >= TREE_LIMIT:
            return
        kids = children.get(pid, [])
        nodes.append(
            PgBlockNode(
                session=session(pid),
                depth=depth,
                waits_for=None if edge is None else int(edge["blocker"]),
                wanted_mode=one_line(str(edge["wanted_mode"] or ""), 60) if edge else "",
                held_mode=one_line(str(edge["held_mode"] or ""), 120) if edge else "",
                lock_object=one_line(str(edge["lock_object"] or ""), 200) if edge else "",
                wait_seconds=None
                if edge is None or edge["wait_s"] is None
                else max(0.0, float(edge["wait_s"])),
                blocks=len(kids),
            )
        )
        for child in sorted(kids, key=lambda e: -(e["wait_s"] or 0.0)):
            child_pid = int(child["pid"])
            if child_pid not in path:
                walk(child_pid, depth + 1, child, path | {child_pid})

    for pid in roots:
        walk(pid, 0, None, {pid})
    return tuple(nodes)


async def read_blocking(conn: psycopg.AsyncConnection) -> tuple[tuple[PgBlockNode, ...], str]:
    cur = conn.cursor(row_factory=dict_row)
    await cur.execute(lock_edges_query(conn.info.server_version))
    edges = await cur.fetchall()
    if not edges:
        return (), "no session waits for a lock"
    pids = sorted({int(e["pid"]) for e in edges} | {int(e["blocker"]) for e in edges})
    await cur.execute(SESSIONS, {"pids": pids, "text_len": TEXT_LEN, "query_len": STATEMENT_LEN})
    sessions = {}
    for r in await cur.fetchall():
        found = session_from_row(r)
        sessions[found.pid] = replace(found, query=mask_passwords(found.query))
    nodes = blocking_tree(edges, sessions)
    note = ""
    if any(n.session.hidden for n in nodes):
        note = "some sessions are hidden from this role (GRANT pg_monitor) or ended meanwhile"
    return nodes, note


# -- everything at once -----------------------------------------------------------------


def _broken(conn: psycopg.AsyncConnection) -> bool:
    return conn.closed or conn.broken


def _note(exc: psycopg.Error) -> str:
    return one_line(str(exc).strip() or type(exc).__name__, 300)


async def deep_snapshot(
    conn: psycopg.AsyncConnection,
    recommended: Mapping[str, str],
    *,
    limit: int = 50,
) -> PgDeepSnapshot:
    """Read every part; a part that fails says why in its note (a lost connection raises)."""
    database = one_line(conn.info.dbname or "", TEXT_LEN)
    role = one_line(conn.info.user or "", TEXT_LEN)
    parts: dict[str, Any] = {}

    async def part(name: str, read: Any) -> None:
        try:
            parts[name] = await read
        except psycopg.Error as exc:
            if _broken(conn):
                raise
            parts[name + "_error"] = _note(exc)

    await part("statements", read_statements(conn, limit, role, database))
    await part("indexes", read_indexes(conn, database))
    await part("settings", read_settings(conn, list(recommended), recommended))
    await part("blocking", read_blocking(conn))
    statements, statements_note, hidden = parts.get(
        "statements", ((), parts.get("statements_error", ""), 0)
    )
    indexes, indexes_note = parts.get("indexes", ((), parts.get("indexes_error", "")))
    blocking, blocking_note = parts.get("blocking", ((), parts.get("blocking_error", "")))
    return PgDeepSnapshot(
        server=connected_label(conn),
        database=database,
        taken_at=datetime.now(UTC),
        statements=statements,
        limit=limit,
        statements_note=statements_note,
        statements_hidden=hidden,
        indexes=indexes,
        indexes_note=indexes_note,
        settings=parts.get("settings", ()),
        settings_note=parts.get("settings_error", ""),
        blocking=blocking,
        blocking_note=blocking_note,
    )
