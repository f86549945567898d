"""`cockpit backup dump|list|verify` and `cockpit restore KEY --database DB --confirm DB`:
the same actions, runner and journal as the screen, for scripts.

Exit status: 0 done and verified, 1 failed, 2 refused (read-only, a damaged dump, a
confirmation that does not match, a configuration problem).  Progress goes to stderr,
at most a few lines a second; the outcome is the last line on stdout.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import time
from typing import TextIO

from actions.backup.context import BackupContext, list_dumps
from actions.backup.dump import DumpNow
from actions.backup.dump_sources import S3Dump
from actions.backup.restore import RestoreDump, VerifyDump
from actions.base import Action, Progress, Refused
from actions.runner import ActionRunner, Busy, Who
from cockpit.audit import Journal
from cockpit.config import Settings, known_secrets
from cockpit.errors import SourceError
from cockpit.textsafe import one_line
from cockpit.units import size_words

OK, FAILED, REFUSED = 0, 1, 2


def progress_printer(stream: TextIO, every: float = 0.5) -> Progress:
    last = [0.0]

    def report(fraction: float | None, text: str) -> None:
        now = time.monotonic()
        if now - last[0] < every and fraction != 1.0:
            return
        last[0] = now
        share = f"{fraction:4.0%} " if fraction is not None else ""
        print(f"  {share}{one_line(text, 200)}", file=stream, flush=True)

    return report


def _runner(settings: Settings, context: str | None) -> ActionRunner:
    journal = Journal(settings.effective_journal_path(), secrets=known_secrets(settings))
    try:
        user = getpass.getuser()
    except Exception:  # no passwd entry in a container: the journal still says headless
        user = ""
    return ActionRunner(
        journal,
        Who(context or "headless", user, settings.kube.namespace),
        read_only=settings.is_read_only(context),
        dry_run=settings.dry_run,
        timeout=settings.backups.dump_timeout,
        verify_timeout=settings.backups.dump_timeout,
    )


async def _run(settings: Settings, action: Action, context: str | None, out: TextIO) -> int:
    runner = _runner(settings, context)
    ctx = BackupContext(settings, runner.journal)
    try:
        result = await runner.run(action, ctx)
    except Refused as exc:
        print(f"refused: {one_line(str(exc), 400)}", file=out)
        return REFUSED
    except Busy as exc:
        print(f"refused: {one_line(str(exc), 400)}", file=out)
        return REFUSED
    finally:
        await ctx.close()
    print(("ok: " if result.ok else "FAILED: ") + one_line(result.message, 600), file=out)
    return OK if result.ok else FAILED


def backup_dump(
    settings: Settings,
    *,
    database: str | None = None,
    key: str = "",
    context: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    b = settings.backups
    action = DumpNow(
        database or settings.postgres.database,
        b.bucket,
        b.prefix,
        key=key,
        progress=progress_printer(err),
    )
    print(action.plan().title, file=err)
    return asyncio.run(_run(settings, action, context, out))


def backup_verify(
    settings: Settings, key: str, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    action = VerifyDump(key, settings.backups.bucket, progress=progress_printer(err))
    return asyncio.run(_run(settings, action, None, out))


def backup_list(settings: Settings, *, out: TextIO | None = None) -> int:
    stream = out or sys.stdout

    async def go() -> int:
        ctx = BackupContext(settings)
        try:
            entries = await list_dumps(ctx)
        except SourceError as exc:
            print(f"FAILED: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=stream)
            return FAILED
        finally:
            await ctx.close()
        for e in entries:
            when = f"{e.when:%Y-%m-%d %H:%M}" if e.when else "-"
            print(
                f"{one_line(e.key, 200)}\t{when}\t{size_words(e.size)}\t{e.sha256 or '-'}",
                file=stream,
            )
        return OK

    return asyncio.run(go())


def _unconfirmed(runner: ActionRunner, action: Action, database: str, out: TextIO) -> int:
    """The typed confirmation of the screen, on the command line: a refusal, journaled."""
    reason = f"--confirm must repeat the database name exactly ({database!r})"
    runner.refused(action, action.plan(), reason)
    print(f"refused: {reason}", file=out)
    return REFUSED


def restore(
    settings: Settings,
    key: str,
    database: str,
    confirm: str,
    *,
    context: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    action = RestoreDump(key, database, settings.backups.bucket, progress=progress_printer(err))
    if confirm != database:
        return _unconfirmed(_runner(settings, context), action, database, out)
    print(action.plan().title, file=err)
    return asyncio.run(_run(settings, action, context, out))


def restore_guided(
    settings: Settings,
    key: str,
    database: str,
    confirm: str,
    *,
    rehearse: bool = False,
    context: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The runbook's whole procedure (actions/backup/procedure.py)."""
    from actions.backup.procedure import Procedure
    from actions.kube.context import KubeContext
    from cockpit.sources.kube.client import connect

    out, err = out or sys.stdout, err or sys.stderr
    runner = _runner(settings, context)
    if confirm != database:
        from actions.backup.dump_sources import PodDump
        from actions.backup.guided import RestoreInPlace
        from actions.backup.procedure import dump_choice

        choice = dump_choice(key)  # for the journal's record of the refusal
        source = (
            S3Dump(settings.backups.bucket, choice.key)
            if choice.source == "s3"
            else PodDump(None, settings.kube.namespace, settings.kube.backup_pod, choice.key)
        )
        return _unconfirmed(runner, RestoreInPlace(source, database), database, out)

    async def go() -> int:
        try:
            target = await asyncio.to_thread(connect, settings.kube, context=context)
        except SourceError as exc:
            print(f"refused: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""), file=out)
            return REFUSED
        runner.who = Who(target.context, target.user, target.namespace)
        kube_ctx = KubeContext(target.api, target.namespace, settings.kube.request_timeout)
        backup_ctx = BackupContext(settings, runner.journal)
        procedure = Procedure(settings, runner, backup_ctx, kube_ctx, progress_printer(err), out)
        try:
            return await procedure.run(key, database, rehearse)
        except Refused as exc:
            print(f"refused: {one_line(str(exc), 600)}", file=out)
            return REFUSED
        finally:
            await backup_ctx.close()
            target.close()

    return asyncio.run(go())


def backup_rehearse(
    settings: Settings,
    key: str,
    *,
    database: str | None = None,
    context: str | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Load a dump into a scratch database, compare row counts with live, drop it."""
    from actions.backup.guided import RehearseDump

    out, err = out or sys.stdout, err or sys.stderr
    action = RehearseDump(
        S3Dump(settings.backups.bucket, key),
        database or settings.postgres.database,
        progress=progress_printer(err),
    )
    print(action.plan().title, file=err)
    return asyncio.run(_run(settings, action, context, out))
