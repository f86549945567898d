"""The runbook's database tuning: `ALTER SYSTEM SET ...; SELECT pg_reload_conf();`.

ALTER SYSTEM takes no bind parameters, so names and values are composed with
psycopg.sql (Identifier, Literal), never by string formatting.  `prepare` reads the
settings as they are (type, unit, range, context) so that the modal can check every
edited value and say which ones need a restart; `verify` reads pg_settings back and
reports exactly what took effect and what waits for a restart.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg
from psycopg import sql

from actions.base import Action, Param, Plan, Progress, Refused, Result, Risk
from actions.postgres.context import PgActionContext
from cockpit.model import PgSettingRow
from cockpit.sources.postgres.deep import SETTINGS, check_value, compare, setting_row
from cockpit.textsafe import one_line

LOAD_TIME = "SELECT pg_conf_load_time() AS loaded"
CONFIRM = "alter system"
VERIFY_S = 5.0
POLL_S = 0.1


def statement(name: str, value: str) -> sql.Composed:
    if value.lower() == "default":
        return sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name))
    return sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))


def when_effective(row: PgSettingRow) -> str:
    if row.context == "postmaster":
        return "only after a restart of the server (context postmaster)"
    if row.context in ("backend", "superuser-backend"):
        return "for new sessions after the reload"
    if row.context == "internal":
        return "never: it cannot be changed"
    return "on the reload"


@dataclass(frozen=True)
class ApplySettings(Action):
    id = "postgres.apply-settings"
    label = "Apply PostgreSQL settings"
    context_kind = "postgres"
    values: tuple[tuple[str, str], ...]  # (name, new value)
    current: tuple[PgSettingRow, ...] = ()
    prepared: bool = False
    server: str = ""

    async def prepare(self, ctx: PgActionContext) -> ApplySettings:
        names = [name for name, _ in self.values]
        wanted = dict(self.values)
        rows = await ctx.rows(SETTINGS, {"names": names})
        by_name = {r["name"]: setting_row(r, wanted.get(r["name"], "")) for r in rows}
        current = tuple(by_name[n] for n in names if n in by_name)
        return replace(self, current=current, prepared=True, server=ctx.server)

    def _row(self, name: str) -> PgSettingRow | None:
        return next((r for r in self.current if r.name == name), None)

    # -- parameters -----------------------------------------------------------------

    def params(self) -> tuple[Param, ...]:
        out = []
        for name, value in self.values:
            row = self._row(name)
            now = f"now {row.shown}" if row else "unknown"
            if row and row.needs_restart:
                now += ", restart"
            out.append(Param(name, name, value, help=now))
        return tuple(out)

    def with_params(self, values: dict[str, str]) -> ApplySettings:
        new = []
        for name, value in self.values:
            text = values.get(name, value)
            row = self._row(name)
            new.append((name, check_value(row, text) if row else text.strip()))
        return replace(self, values=tuple(new))

    # -- the plan -------------------------------------------------------------------

    def changes_needed(self) -> list[tuple[PgSettingRow, str]]:
        out = []
        for name, value in self.values:
            row = self._row(name)
            if row is None:
                continue
            if value.lower() != "default" and compare(row.setting, row.unit, row.vartype, value):
                continue  # already in effect
            out.append((row, value))
        return out

    def plan(self) -> Plan:
        needed = self.changes_needed()
        unknown = [n for n, _ in self.values if self.prepared and self._row(n) is None]
        changes = [
            f"{row.name}: {row.shown} → {value} — takes effect {when_effective(row)}"
            for row, value in needed
        ]
        unchanged = [
            f"{row.name} = {row.shown}: already {value}, unchanged"
            for name, value in self.values
            if (row := self._row(name)) is not None and (row, value) not in needed
        ]
        restart = [row.name for row, _ in needed if row.needs_restart]
        warnings = []
        if not self.prepared:
            warnings.append("the current settings have not been read yet")
        elif not needed:
            warnings.append("every value is already in effect: nothing to change")
        if restart:
            warnings.append(
                f"{', '.join(restart)} take(s) effect only after a restart of the server; "
                "the cockpit does not restart it"
            )
        if unknown:
            warnings.append(f"unknown to this server, left out: {', '.join(unknown)}")
        for row, _ in needed:
            if row.pending_restart:
                warnings.append(f"{row.name} already waits for a restart (pending_restart)")
        lines = [statement(row.name, value).as_string(None) + ";" for row, value in needed]
        lines.append("SELECT pg_reload_conf();")
        return Plan(
            action=self.id,
            title=f"ALTER SYSTEM: {len(needed)} setting(s)"
            + (f" on {self.server}" if self.server else ""),
            changes=tuple(changes) or ("nothing: every value is already in effect",),
            command="\n".join(lines),
            targets=(f"postgres/{self.server or 'server'}",),
            blast_radius="the whole server: every database and session on it; the values "
            "are written to postgresql.auto.conf and override postgresql.conf",
            risk=Risk.HIGH,
            confirm_phrase=CONFIRM,
            details=tuple(unchanged),
            dry_run_supported=False,  # PostgreSQL has no dry run for ALTER SYSTEM
            lock_key="postgres:settings",
            warnings=tuple(warnings),
        )

    # -- execution ------------------------------------------------------------------

    async def execute(self, ctx: PgActionContext, dry_run: bool) -> Result:
        needed = self.changes_needed()
        if not needed:
            raise Refused("every value is already in effect; nothing done")
        # Each session re-reads the files when it gets the reload signal; this time moving
        # on is how verify knows its own session sees the new configuration.
        loaded = (await ctx.rows(LOAD_TIME))[0]["loaded"]
        applied: list[tuple[str, str]] = []
        failure = ""
        for row, value in needed:
            try:
                await ctx.mutate(statement(row.name, value))
            except psycopg.errors.InsufficientPrivilege as exc:
                if not applied:
                    raise Refused(
                        f"not permitted: {one_line(str(exc), 200)} — ALTER SYSTEM needs a "
                        f"superuser (or GRANT ALTER SYSTEM ON PARAMETER {row.name}); nothing done"
                    ) from None
                failure = f"{row.name}: {one_line(str(exc), 200)}"
                break
            except psycopg.Error as exc:
                failure = f"{row.name}: {one_line(str(exc), 200)}"
                break
            applied.append((row.name, value))
        reloaded = False
        if applied:
            rows = await ctx.mutate("SELECT pg_reload_conf() AS ok")
            reloaded = bool(rows and rows[0]["ok"])
        written = ", ".join(f"{n} = {v}" for n, v in applied)
        data = {
            "applied": [list(pair) for pair in applied],
            "reloaded": reloaded,
            "loaded_before": loaded.isoformat(),
        }
        if failure:
            done = f"wrote {written} and reloaded" if applied else "nothing was written"
            return Result(False, f"ALTER SYSTEM failed for {failure}; {done}", data)
        if not reloaded:
            return Result(False, f"wrote {written}, but pg_reload_conf() returned false", data)
        return Result(True, f"wrote {written}; configuration reloaded", data)

    async def verify(self, ctx: PgActionContext, result: Result, progress: Progress) -> Result:
        applied = [(n, v) for n, v in result.data.get("applied") or []]
        before = datetime.fromisoformat(result.data["loaded_before"])
        deadline = time.monotonic() + VERIFY_S
        progress(None, "waiting for the reload to reach this session")
        while True:
            loaded = (await ctx.rows(LOAD_TIME))[0]["loaded"]
            late = time.monotonic() > deadline
            if loaded > before or late:
                break
            await asyncio.sleep(POLL_S)
        rows = await ctx.rows(SETTINGS, {"names": [n for n, _ in applied]})
        by_name = {r["name"]: r for r in rows}
        words, missed = [], 0
        for name, value in applied:
            row = setting_row(by_name[name], "" if value.lower() == "default" else value)
            words.append(_outcome(row, value))
            if row.matches is False and not (row.needs_restart and row.pending_restart):
                missed += 1
        if late:
            words.append(f"the reload had not reached this session after {VERIFY_S:g} s")
        progress(1.0, "read back from pg_settings")
        ok = missed == 0 and not late
        return Result(ok, "; ".join(words), {**result.data, "read_back": words})


def _outcome(row: PgSettingRow, value: str) -> str:
    if value.lower() == "default":
        return f"{row.name} reset: now {row.shown} (source {row.source})"
    if row.matches:
        return f"{row.name} = {row.shown} in effect"
    if row.needs_restart and row.pending_restart:
        return f"{row.name} = {value} written, waits for a restart (running {row.shown})"
    return (
        f"{row.name} NOT in effect: still {row.shown} (source {row.source}; a per-role or "
        "per-database setting, or a command-line option, may override it)"
    )
