"""The database-level statements of a restore: create and drop a database, count the
rows of every table, and swap a restored database in under the live one's name.

Synchronous psycopg on the maintenance database (`postgres`), run in a thread by the
actions.  Names are always composed with sql.Identifier.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg
from psycopg import sql

from actions.backup.context import BackupContext

MAINTENANCE_DB = "postgres"
NAME_MAX = 63  # PostgreSQL truncates identifiers at NAMEDATALEN - 1 bytes
DRAIN_S = 15.0  # how long the swap waits for terminated sessions to go


def derived_name(database: str, what: str, stamp: str) -> str:
    """`excel_unified_before_20261206_031500`, cut to fit PostgreSQL's 63 bytes."""
    suffix = f"_{what}_{stamp}"
    return database.encode()[: NAME_MAX - len(suffix)].decode("utf-8", "ignore") + suffix


def _admin(ctx: BackupContext) -> psycopg.Connection:
    return psycopg.connect(ctx.dsn(MAINTENANCE_DB), autocommit=True)


def exists(ctx: BackupContext, database: str) -> bool:
    with _admin(ctx) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
    return row is not None


def create(ctx: BackupContext, database: str, like: str | None = None) -> None:
    """CREATE DATABASE, owned by the owner of `like` when that database exists (the
    restored one keeps the live one's owner, so the app's role can still use it)."""
    with _admin(ctx) as conn:
        owner = None
        if like is not None:
            row = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (like,)
            ).fetchone()
            owner = row[0] if row else None
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database))
        if owner:
            statement = sql.SQL("{} OWNER {}").format(statement, sql.Identifier(owner))
        conn.execute(statement)


def drop(ctx: BackupContext, database: str) -> None:
    with _admin(ctx) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def row_counts(ctx: BackupContext, database: str) -> dict[str, int]:
    """schema.table -> exact row count, for every ordinary and partitioned table."""
    with psycopg.connect(ctx.dsn(database), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
            " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg\\_toast%%' ORDER BY 1, 2"
        ).fetchall()
        counts = {}
        for schema, table in tables:
            query = sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            row = conn.execute(query).fetchone()
            counts[f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


@dataclass(frozen=True)
class CountRow:
    table: str
    dump: int | None  # None: the table is not in the dump
    live: int | None  # None: not in the live database (or no live database)

    @property
    def differs(self) -> bool:
        return self.dump != self.live


def compare(dump: dict[str, int], live: dict[str, int] | None) -> list[CountRow]:
    live = live or {}
    return [CountRow(t, dump.get(t), live.get(t)) for t in sorted(set(dump) | set(live))]


def swap(ctx: BackupContext, live: str, restored: str, kept_as: str) -> int:
    """Put `restored` in place of `live`, which is kept as `kept_as`; returns how many
    sessions on `live` were ended.  New connections to `live` are refused while it is
    renamed; if a rename fails, the names are put back as they were."""
    with _admin(ctx) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (live,)).fetchone() is None:
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                    sql.Identifier(restored), sql.Identifier(live)
                )
            )
            return 0
        name = sql.Identifier(live)
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(name))
        ended: set[int] = set()
        try:
            deadline = time.monotonic() + DRAIN_S
            while True:
                rows = conn.execute(
                    "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (live,),
                ).fetchall()
                if not rows:
                    break
                ended.update(int(r[0]) for r in rows)
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"sessions on {live} did not end within {DRAIN_S:g} s; nothing renamed"
                    )
                time.sleep(0.2)
            conn.execute(
                sql.SQL("ALTER DATABASE {} RENAME TO {}").format(name, sql.Identifier(kept_as))
            )
            try:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(restored), name)
                )
            except Exception:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(kept_as), name)
                )
                raise
        finally:
            # Whichever name it has now, the old database accepts connections again.
            for db in (kept_as, live):
                try:
                    conn.execute(
                        sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(
                            sql.Identifier(db)
                        )
                    )
                except psycopg.Error:
                    pass
    return len(ended)
