"""What the clean-up would remove, read from the pod with `find -printf` over exec.

Each rule is one `find` per directory, run as an argv (no shell), printing
`SIZE MTIME PATH\\0` records: NUL is the one byte a path cannot hold, so names with
spaces, quotes or newlines come back intact.  Listings are capped; past the cap only a
count and a byte total are kept, and those files are not part of the clean-up.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from cockpit.config import DiskSettings
from cockpit.sources.disk.podexec import ExecClient
from cockpit.textsafe import one_line

PRINTF = "%s %T@ %p\\0"


@dataclass(frozen=True)
class Found:
    path: str
    size: int
    mtime: float
    mtime_s: int  # whole seconds, as `stat -c %Y` prints it
    deletable: bool  # False for large files (inspect only) and undecodable names


@dataclass(frozen=True)
class Rule:
    key: str  # "large", "logs", "uploads"
    title: str
    deletes: bool
    argv_tail: tuple[str, ...]  # the find expression after the starting directory
    dirs: tuple[str, ...]


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    files: tuple[Found, ...]
    more: int  # matches past the cap (not listed, not deleted)
    more_bytes: int
    notes: tuple[str, ...]  # a directory missing, a permission error

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)


def rules_of(cfg: DiskSettings) -> tuple[Rule, ...]:
    skip: list[str] = []
    for path in cfg.large_skip:
        skip += (["-o"] if skip else []) + ["-path", path]
    prune = ("(", *skip, ")", "-prune", "-o") if skip else ()
    return (
        Rule(
            "large",
            f"files larger than {cfg.large_mb} MB"
            + ("" if cfg.delete_large else " (to inspect; not deleted)"),
            cfg.delete_large,
            (*prune, "-type", "f", "-size", f"+{cfg.large_mb}M", "-printf", PRINTF),
            cfg.large_dirs,
        ),
        Rule(
            "logs",
            f"{cfg.log_pattern} older than {cfg.log_days} days",
            True,
            (
                "-type",
                "f",
                "-name",
                cfg.log_pattern,
                "-mtime",
                f"+{cfg.log_days}",
                "-printf",
                PRINTF,
            ),
            cfg.log_dirs,
        ),
        Rule(
            "uploads",
            f"uploads older than {cfg.upload_days} days",
            True,
            ("-type", "f", "-mtime", f"+{cfg.upload_days}", "-printf", PRINTF),
            cfg.upload_dirs,
        ),
    )


def find_argv(rule: Rule, directory: str) -> list[str]:
    return ["find", directory, *rule.argv_tail]


def parse_records(out: str, deletes: bool, cap: int) -> tuple[list[Found], int, int]:
    """(listed, how many more, their bytes) from `SIZE MTIME PATH\\0` records."""
    listed: list[Found] = []
    more = more_bytes = 0
    for record in out.split("\0"):
        if not record:
            continue
        size, mtime, path = record.split(" ", 2)
        if len(listed) >= cap:
            more += 1
            more_bytes += int(size)
            continue
        whole = int(mtime.split(".", 1)[0])
        # A name that was not valid UTF-8 came back with U+FFFD: it cannot be named back.
        listed.append(Found(path, int(size), float(mtime), whole, deletes and "\ufffd" not in path))
    return listed, more, more_bytes


async def take_preview(
    execs: ExecClient, pod: str, container: str | None, cfg: DiskSettings
) -> tuple[RuleResult, ...]:
    results = []
    for rule in rules_of(cfg):
        files: list[Found] = []
        more = more_bytes = 0
        notes: list[str] = []
        for directory in rule.dirs:
            if not directory.startswith("/"):
                notes.append(f"{directory}: not an absolute path, skipped")
                continue
            res = await execs.run(pod, find_argv(rule, directory), container, cfg.exec_timeout)
            if res.code != 0 and "No such file or directory" in res.err and not res.out:
                notes.append(f"{directory}: not present in {pod}")
                continue
            if res.code != 0 and not res.out:
                notes.append(f"{directory}: find failed: {one_line(res.err, 200)}")
                continue
            if res.code != 0:
                notes.append(f"{directory}: some entries unreadable: {one_line(res.err, 160)}")
            try:
                got, m, mb = parse_records(
                    res.out, rule.deletes, max(0, cfg.preview_cap - len(files))
                )
            except ValueError:
                notes.append(f"{directory}: find printed something unexpected (not GNU find?)")
                continue
            files += got
            more += m
            more_bytes += mb
        results.append(RuleResult(rule, tuple(files), more, more_bytes, tuple(notes)))
    return tuple(results)


def command_line(namespace: str, pod: str, argv: list[str]) -> str:
    return f"kubectl exec -n {namespace} {pod} -- {shlex.join(argv)}"
