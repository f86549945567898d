"""disk.cleanup: the runbook's three disk steps on one pod, acting on exactly what was shown.

prepare() lists the matching files now (preview.py) and reads `df`; the plan shows them
rule by rule with the bytes they free; execute() removes exactly the previewed files in
batches of shell one-liners that first check each file's size and mtime are unchanged
(`stat`), so a file rewritten since the preview is skipped, never a fresh `find -delete`;
verify() reads `df` again and reports the space gained.  Large files are listed for
inspection and not deleted unless the settings say so.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from actions.base import Action, Permission, Plan, Progress, Refused, Result, Risk
from actions.disk.preview import Found, RuleResult, command_line, find_argv, take_preview
from cockpit.config import DiskSettings
from cockpit.sources.disk.df import DF_ARGV, DfRow, parse_df
from cockpit.sources.disk.podexec import ExecClient
from cockpit.textsafe import clean
from cockpit.units import age_text, size_words

DETAIL_FILES = 40  # per rule in the modal; the journal has them all
# API servers and the proxies before them cap a request line near 8 KiB (aiohttp's
# default is 8190 bytes): keep each exec's URL well under it.
URL_BUDGET = 6000


@dataclass(frozen=True)
class CleanupPlan(Plan):
    """A Plan whose journal entry carries the exact files to remove."""

    files: tuple[dict[str, Any], ...] = ()

    def as_journal(self) -> dict[str, Any]:
        return {**super().as_journal(), "files": list(self.files)}


def check_line(i: int, f: Found) -> str:
    """One file's check-then-remove; prints `D i`, or `N i` and what stat says now."""
    q = shlex.quote(f.path)
    want = shlex.quote(f"{f.size} {f.mtime_s}")
    now = f"$(stat -c '%s %Y' -- {q} 2>/dev/null)"
    return f'[ "{now}" = {want} ] && rm -f -- {q} && echo \'D {i}\' || echo "N {i} {now}"'


def batches(files: list[Found], most: int) -> list[tuple[int, list[Found]]]:
    """(index of the first, files) per exec: at most `most` files and about URL_BUDGET
    bytes of URL-encoded script, since the command travels in the exec URL's query."""
    out: list[tuple[int, list[Found]]] = []
    cur: list[Found] = []
    size = 0
    for i, f in enumerate(files):
        cost = len(quote(check_line(i, f), safe="")) + 20
        if cur and (len(cur) >= most or size + cost > URL_BUDGET):
            out.append((i - len(cur), cur))
            cur, size = [], 0
        cur.append(f)
        size += cost
    if cur:
        out.append((len(files) - len(cur), cur))
    return out


def _df_map(rows: list[DfRow]) -> dict[str, DfRow]:
    return {r.mount: r for r in rows}


@dataclass(frozen=True)
class DiskCleanup(Action):
    id = "disk.cleanup"
    label = "Clean up disk"
    pod: str
    namespace: str = ""
    settings: DiskSettings = field(default_factory=DiskSettings)
    container: str | None = None
    preview: tuple[RuleResult, ...] | None = None
    df_before: tuple[DfRow, ...] = ()
    taken_at: float = 0.0

    @classmethod
    def required(cls) -> tuple[Permission, ...]:
        return (Permission("create", "pods", subresource="exec"),)

    def permissions(self) -> tuple[Permission, ...]:
        return (Permission("create", "pods", subresource="exec", name=self.pod),)

    def _execs(self, ctx: Any) -> ExecClient:
        return ExecClient(ctx.api.configuration, self.namespace or ctx.namespace)

    async def prepare(self, ctx: Any) -> DiskCleanup:
        execs = self._execs(ctx)
        try:
            container = self.container or self.settings.container
            preview = await take_preview(execs, self.pod, container, self.settings)
            df = await execs.run(self.pod, DF_ARGV, container, self.settings.exec_timeout)
            rows = tuple(parse_df(df.out)) if df.out.strip() else ()
        finally:
            execs.close()
        return replace(
            self,
            namespace=self.namespace or ctx.namespace,
            preview=preview,
            df_before=rows,
            taken_at=time.time(),
        )

    def doomed(self) -> list[Found]:
        """The files the clean-up removes, each once, in preview order."""
        seen: set[str] = set()
        out: list[Found] = []
        for result in self.preview or ():
            for f in result.files:
                if f.deletable and f.path not in seen:
                    seen.add(f.path)
                    out.append(f)
        return out

    def plan(self) -> Plan:
        ns = self.namespace or "<namespace>"
        doomed = self.doomed()
        freed = sum(f.size for f in doomed)
        details: list[str] = []
        commands: list[str] = []
        now = self.taken_at or time.time()
        for r in self.preview or ():
            verb = "remove" if r.rule.deletes else "inspect"
            details.append(
                f"{r.rule.title}: {len(r.files)} file(s), {size_words(r.bytes)} ({verb})"
            )
            for f in r.files[:DETAIL_FILES]:
                age = age_text(now - f.mtime)
                details.append(f"  {size_words(f.size):>10}  {age:>5}  {clean(f.path, 300)}")
            if len(r.files) > DETAIL_FILES:
                details.append(f"  … {len(r.files) - DETAIL_FILES} more listed in the journal")
            if r.more:
                details.append(
                    f"  + {r.more} more match ({size_words(r.more_bytes)}) past the listing cap:"
                    " not part of this clean-up; run it again afterwards"
                )
            details += [f"  note: {clean(n, 200)}" for n in r.notes]
            commands += [command_line(ns, self.pod, find_argv(r.rule, d)) for d in r.rule.dirs]
        if self.preview is None:
            changes: tuple[str, ...] = ("list the matching files in the pod (preview)",)
        else:
            changes = (
                f"remove {len(doomed)} file(s) in {self.pod}, freeing {size_words(freed)}",
                "each only if its size and mtime are still those shown (else skipped)",
                "then re-read df and report the space gained",
            )
        warnings = []
        if self.preview is not None and not doomed:
            warnings.append("nothing to remove: no file matches the deleting rules")
        return CleanupPlan(
            action=self.id,
            title=f"Clean up disk in {self.pod}",
            changes=changes,
            command="\n".join(commands) or f"kubectl exec -n {ns} {self.pod} -- find …",
            targets=(f"pod/{self.pod}",),
            blast_radius=f"files inside pod {self.pod} only; large files are listed, not removed"
            if not self.settings.delete_large
            else f"files inside pod {self.pod} only, large files included",
            risk=Risk.HIGH,
            confirm_phrase=self.pod,
            details=tuple(details),
            lock_key=f"pod/{self.pod}",
            warnings=tuple(warnings),
            files=tuple({"path": f.path, "size": f.size, "mtime": f.mtime_s} for f in doomed),
        )

    async def execute(self, ctx: Any, dry_run: bool) -> Result:
        if self.preview is None:
            raise Refused("no preview was taken: nothing is removed without one")
        doomed = self.doomed()
        if dry_run:
            return Result(
                True,
                f"dry run: would remove {len(doomed)} file(s), "
                f"{size_words(sum(f.size for f in doomed))}; nothing deleted",
                {"would_remove": [f.path for f in doomed]},
            )
        removed: list[str] = []
        skipped: list[dict[str, str]] = []
        failed: list[str] = []
        execs = self._execs(ctx)
        container = self.container or self.settings.container
        try:
            for start, batch in batches(doomed, self.settings.batch):
                script = "; ".join(check_line(start + k, f) for k, f in enumerate(batch))
                res = await execs.run(
                    self.pod, ["sh", "-c", script], container, self.settings.exec_timeout
                )
                seen: set[int] = set()
                for line in res.out.splitlines():
                    mark, _, rest = line.partition(" ")
                    idx_s, _, now = rest.partition(" ")
                    if not idx_s.isdigit() or not (start <= int(idx_s) < start + len(batch)):
                        continue
                    idx = int(idx_s)
                    seen.add(idx)
                    f = doomed[idx]
                    if mark == "D":
                        removed.append(f.path)
                    elif not now.strip():
                        skipped.append({"path": f.path, "why": "gone since the preview"})
                    elif now.strip() != f"{f.size} {f.mtime_s}":
                        skipped.append(
                            {"path": f.path, "why": f"changed since the preview ({now.strip()})"}
                        )
                    else:
                        failed.append(f.path)
                for k, f in enumerate(batch):
                    if start + k not in seen:
                        failed.append(f.path)
        finally:
            execs.close()
        freed = sum(f.size for f in doomed if f.path in set(removed))
        ok = not failed
        message = f"removed {len(removed)} file(s) ({size_words(freed)})"
        if skipped:
            message += f", skipped {len(skipped)} changed since the preview"
        if failed:
            message += f", {len(failed)} could not be removed"
        return Result(
            ok,
            message,
            {"removed": removed, "skipped": skipped, "failed": failed, "freed_bytes": freed},
        )

    async def verify(self, ctx: Any, result: Result, progress: Progress) -> Result:
        progress(None, "re-reading df")
        execs = self._execs(ctx)
        try:
            res = await execs.run(
                self.pod,
                DF_ARGV,
                self.container or self.settings.container,
                self.settings.exec_timeout,
            )
        finally:
            execs.close()
        try:
            after = _df_map(parse_df(res.out))
        except ValueError as exc:
            return Result(
                result.ok, f"{result.message}; df unreadable afterwards: {exc}", result.data
            )
        before = _df_map(list(self.df_before))
        gained = []
        for mount, row in after.items():
            old = before.get(mount)
            if old is not None and old.used != row.used:
                gained.append(
                    {
                        "mount": mount,
                        "before_pct": old.percent,
                        "after_pct": row.percent,
                        "gained_bytes": old.used - row.used,
                    }
                )
        words = "; ".join(
            f"{clean(g['mount'], 120)} {g['before_pct']:.0f}% → {g['after_pct']:.0f}% "
            f"({size_words(g['gained_bytes'])} gained)"
            for g in gained
        )
        data = {**result.data, "df": gained}
        return Result(result.ok, f"{result.message}; df: {words or 'no change'}", data)
