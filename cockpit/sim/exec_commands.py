"""The commands a simulated container knows: coreutils-style file chores over its
`SimFS`, a few text filters for pipelines, and the database CLIs the runbook calls.
"""

from __future__ import annotations

import math
import posixpath
import re
import time
from collections.abc import Callable

from cockpit.sim.exec_shell import Ctx, Result, run_script
from cockpit.sim.filesystem import BLOCK, Dir, File, FsError, Node, blocks, human

Command = Callable[[list[str], Ctx, str], Result]

SIX_MONTHS = 182.5 * 86400


def _flags(
    args: list[str], known: str, with_value: str = ""
) -> tuple[set[str], dict[str, str], list[str], str | None]:
    """Split `-la`-style short options from operands; returns (flags, values, operands, bad)."""
    flags: set[str] = set()
    values: dict[str, str] = {}
    operands: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            operands.extend(args[i:])
            break
        if a.startswith("--") and len(a) > 2:
            name, _, val = a[2:].partition("=")
            flags.add("--" + name)
            if val:
                values["--" + name] = val
            continue
        if a.startswith("-") and len(a) > 1 and not a[1].isdigit():
            j = 1
            while j < len(a):
                c = a[j]
                if c in with_value:
                    val = a[j + 1 :] or (args[i] if i < len(args) else "")
                    if not a[j + 1 :]:
                        i += 1
                    values[c] = val
                    break
                if c not in known:
                    return flags, values, operands, c
                flags.add(c)
                j += 1
            continue
        operands.append(a)
    return flags, values, operands, None


def _invalid(cmd: str, opt: str) -> Result:
    return Result(
        err=f"{cmd}: invalid option -- '{opt}'\nTry '{cmd} --help' for more information.\n",
        code=2 if cmd == "ls" else 1,
    )


# -- ls ------------------------------------------------------------------------------


def _perms(node: Node) -> str:
    kind = "d" if isinstance(node, Dir) else "-"
    bits = "".join(ch if node.mode & (1 << (8 - i)) else "-" for i, ch in enumerate("rwxrwxrwx"))
    return kind + bits


def _nlink(node: Node) -> int:
    if isinstance(node, Dir):
        return 2 + sum(isinstance(c, Dir) for c in node.children.values())
    return 1


def _date(mtime: float, now: float) -> str:
    tm = time.gmtime(mtime)
    day = f"{tm.tm_mday:>2}"
    if now - SIX_MONTHS < mtime <= now + 3600:
        return time.strftime(f"%b {day} %H:%M", tm)
    return time.strftime(f"%b {day}  %Y", tm)


def _size(node: Node) -> int:
    return node.size if isinstance(node, File) else BLOCK


def ls_long_line(
    node: Node, name: str, now: float, human: bool, width: int = 0, owner_w: int = 8
) -> str:
    size = _hsize(_size(node)) if human else str(_size(node))
    return (
        f"{_perms(node)} {_nlink(node):>2} {node.owner:<{owner_w}} {node.owner:<{owner_w}} "
        f"{size:>{width}} {_date(node.mtime, now)} {name}"
    )


def _hsize(n: int) -> str:
    return human(n)


def ls(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, _, operands, bad = _flags(args, "laAhtrS1dF")
    if bad:
        return _invalid("ls", bad)
    fs = ctx.fs
    out: list[str] = []
    err: list[str] = []
    code = 0
    paths = operands or ["."]
    files: list[tuple[str, Node]] = []
    dirs: list[tuple[str, Dir]] = []
    for p in paths:
        node = fs.lookup(p)
        if node is None:
            err.append(f"ls: cannot access '{p}': No such file or directory\n")
            code = 2
        elif isinstance(node, Dir) and "d" not in flags:
            dirs.append((p, node))
        else:
            files.append((p, node))

    def order(items: list[tuple[str, Node]]) -> list[tuple[str, Node]]:
        if "t" in flags:
            items = sorted(items, key=lambda kv: (-kv[1].mtime, kv[0]))
        elif "S" in flags:
            items = sorted(items, key=lambda kv: (-_size(kv[1]), kv[0]))
        else:
            items = sorted(items, key=lambda kv: kv[0])  # containers run in the C locale
        return list(reversed(items)) if "r" in flags else items

    def render(items: list[tuple[str, Node]], with_total: bool) -> None:
        if "l" not in flags:
            out.extend(name + "\n" for name, _ in items)
            return
        if with_total:
            total = sum(blocks(_size(n)) for _, n in items) // 1024
            out.append(f"total {_hsize(total * 1024) if 'h' in flags else total}\n")
        sizes = [(_hsize(_size(n)) if "h" in flags else str(_size(n))) for _, n in items]
        width = max((len(s) for s in sizes), default=1)
        owner_w = max((len(n.owner) for _, n in items), default=1)
        for name, node in items:
            out.append(ls_long_line(node, name, ctx.now, "h" in flags, width, owner_w) + "\n")

    render(order(files), with_total=False)
    for idx, (p, d) in enumerate(dirs):
        if len(paths) > 1:
            out.append(("\n" if idx or files else "") + f"{p}:\n")
        items: list[tuple[str, Node]] = [
            (n, c)
            for n, c in d.children.items()
            if "a" in flags or "A" in flags or not n.startswith(".")
        ]
        items = order(items)
        if "a" in flags:
            parent = fs.lookup(posixpath.dirname(fs.abspath(p))) or d
            items = [(".", d), ("..", parent), *items]
        render(items, with_total=True)
    return Result(out="".join(out), err="".join(err), code=code)


# -- df / du ----------------------------------------------------------------------------


_BLOCK_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "KB": 1000, "MB": 1000**2}


def _block_size(raw: str) -> int | None:
    """`-B`/`--block-size` as GNU reads it (1, 512, 1K, 1M, 1MB, ...); None when invalid."""
    digits = raw[: len(raw) - len(raw.lstrip("0123456789"))]
    unit = _BLOCK_UNITS.get(raw[len(digits) :].upper() if raw[len(digits) :] else "")
    if unit is None or (not digits and not raw[len(digits) :]):
        return None
    size = int(digits or 1) * unit
    return size or None


def df(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, values, operands, bad = _flags(args, "hHkPTa", with_value="B")
    if bad:
        return _invalid("df", bad)
    fs = ctx.fs
    hum = bool({"h", "H"} & flags) or "--human-readable" in flags
    posix = "P" in flags or "--portability" in flags
    raw_bs = values.get("B") or values.get("--block-size") or ""
    block = 1024
    if raw_bs and "k" not in flags:
        parsed = _block_size(raw_bs)
        if parsed is None:
            return Result(err=f"df: invalid --block-size argument '{raw_bs}'\n", code=1)
        block, hum = parsed, False
    err: list[str] = []
    mounts = []
    for p in operands:
        if fs.lookup(p) is None:
            err.append(f"df: {p}: No such file or directory\n")
        else:
            mounts.append(fs.mount_for(p))
    if not operands:
        mounts = list(fs.mounts)
    rows = []
    for m in mounts:
        used = fs.used(m)
        avail = m.size - used
        pct = "-" if m.size == 0 else f"{math.ceil(used * 100 / m.size)}%"
        if hum:
            cells = [human(m.size), human(used), human(avail)]
        else:
            cells = [str(m.size // block), str(used // block), str(avail // block)]
        rows.append([m.device, *cells, pct, m.path])
    use = "Capacity" if posix else "Use%"
    if posix or raw_bs:
        label = raw_bs if raw_bs and not raw_bs.isdigit() else str(block)
        blocks_h = f"{label}-blocks" if posix or not raw_bs.isdigit() else f"{label}B-blocks"
    else:
        blocks_h = "1K-blocks"
    header = (
        ["Filesystem", "Size", "Used", "Avail", use, "Mounted on"]
        if hum
        else ["Filesystem", blocks_h, "Used", "Available", use, "Mounted on"]
    )
    mins = [14, 5, 5, 5, 4, 0]
    widths = [max(mins[i], len(header[i]), *(len(r[i]) for r in rows)) for i in range(6)]
    lines = []
    for r in [header, *rows]:
        cells = [r[0].ljust(widths[0])] + [r[i].rjust(widths[i]) for i in range(1, 5)] + [r[5]]
        lines.append(" ".join(cells) + "\n")
    return Result(out="".join(lines), err="".join(err), code=1 if err else 0)


def du(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, values, operands, bad = _flags(args, "shacxk", with_value="d")
    if bad:
        return _invalid("du", bad)
    fs = ctx.fs
    depth_limit = math.inf
    if "d" in values or "--max-depth" in values:
        depth_limit = int(values.get("d") or values["--max-depth"])
    if "s" in flags:
        depth_limit = 0
    hum = "h" in flags or "--human-readable" in flags

    def fmt(n: int) -> str:
        return human(n) if hum else str(-(-n // 1024))

    out: list[str] = []
    err: list[str] = []
    grand = 0
    for p in operands or ["."]:
        node = fs.lookup(p)
        if node is None:
            err.append(f"du: cannot access '{p}': No such file or directory\n")
            continue
        grand += _du(p, node, 0, depth_limit, "a" in flags, out, fmt)
    if "c" in flags:
        out.append(f"{fmt(grand)}\ttotal\n")
    return Result(out="".join(out), err="".join(err), code=1 if err else 0)


def _du(
    path: str,
    node: Node,
    depth: int,
    limit: float,
    all_files: bool,
    out: list[str],
    fmt: Callable[[int], str],
) -> int:
    if isinstance(node, File):
        size = blocks(node.size)
        if depth == 0 or (all_files and depth <= limit):
            out.append(f"{fmt(size)}\t{path}\n")
        return size
    assert isinstance(node, Dir)
    total = BLOCK
    for name, child in node.children.items():
        sep = "" if path.endswith("/") else "/"
        total += _du(path + sep + name, child, depth + 1, limit, all_files, out, fmt)
    if depth <= limit:
        out.append(f"{fmt(total)}\t{path}\n")
    return total


# -- files -------------------------------------------------------------------------------


def _read(ctx: Ctx, cmd: str, path: str) -> tuple[str | None, str]:
    node = ctx.fs.lookup(path)
    if node is None:
        return None, f"{cmd}: {path}: No such file or directory\n"
    if isinstance(node, Dir):
        return None, f"{cmd}: {path}: Is a directory\n"
    assert isinstance(node, File)
    if node.content is None and node.size:
        return None, (
            f"{cmd}: {path}: contents of this {human(node.size)} file are not simulated "
            "(only small text files are)\n"
        )
    return (node.content or b"").decode("utf-8", "replace"), ""


def cat(args: list[str], ctx: Ctx, stdin: str) -> Result:
    r = Result()
    for p in args or ["-"]:
        if p == "-":
            r.out += stdin
            continue
        text, err = _read(ctx, "cat", p)
        r.out += text or ""
        if err:
            r.err += err
            r.code = 1
    return r


def _count_opt(args: list[str], default: int) -> tuple[int, list[str]]:
    n = default
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-n" and i + 1 < len(args):
            n = int(args[i + 1].lstrip("+-") or default)
            i += 2
            continue
        if a.startswith("-n") and a[2:].isdigit():
            n = int(a[2:])
        elif a.startswith("-") and a[1:].isdigit():
            n = int(a[1:])
        else:
            rest.append(a)
        i += 1
    return n, rest


def _head_tail(which: str) -> Command:
    def run(args: list[str], ctx: Ctx, stdin: str) -> Result:
        try:
            n, rest = _count_opt(args, 10)
        except ValueError:
            return Result(err=f"{which}: invalid number of lines\n", code=1)
        r = Result()
        sources = rest or ["-"]
        for p in sources:
            text, err = (stdin, "") if p == "-" else _read(ctx, which, p)
            if err:
                r.err += err
                r.code = 1
                continue
            lines = (text or "").splitlines(keepends=True)
            pick = lines[:n] if which == "head" else (lines[-n:] if n else [])
            if len(sources) > 1:
                r.out += f"==> {p} <==\n"
            r.out += "".join(pick)
        return r

    return run


def grep(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, values, operands, bad = _flags(args, "ivcnEFwloqsrh", with_value="e")
    if bad:
        return Result(err=f"grep: invalid option -- '{bad}'\n", code=2)
    pattern = values.get("e")
    if pattern is None:
        if not operands:
            return Result(err="Usage: grep [OPTION]... PATTERNS [FILE]...\n", code=2)
        pattern, operands = operands[0], operands[1:]
    if "F" in flags:
        pattern = re.escape(pattern)
    elif "E" not in flags:
        # Basic regex: \| \( \) are the operators, bare | ( ) are literals.
        pattern = re.sub(
            r"\\([|()+?{}])|([|()+?{}])", lambda m: m.group(1) or "\\" + m.group(2), pattern
        )
    if "w" in flags:
        pattern = rf"\b(?:{pattern})\b"
    try:
        rx = re.compile(pattern, re.IGNORECASE if "i" in flags else 0)
    except re.error:
        return Result(err="grep: Invalid regular expression\n", code=2)
    r = Result()
    matched = 0
    for p in operands or ["-"]:
        text, err = (stdin, "") if p == "-" else _read(ctx, "grep", p)
        if err:
            r.err += err
            continue
        count = 0
        for num, line in enumerate((text or "").splitlines(), 1):
            if bool(rx.search(line)) != ("v" in flags):
                count += 1
                if "c" in flags or "q" in flags or "l" in flags:
                    continue
                prefix = f"{p}:" if len(operands) > 1 else ""
                prefix += f"{num}:" if "n" in flags else ""
                r.out += prefix + line + "\n"
        if "c" in flags:
            r.out += (f"{p}:" if len(operands) > 1 else "") + f"{count}\n"
        if "l" in flags and count:
            r.out += f"{p}\n"
        matched += count
    if "q" in flags:
        r.out = ""
    r.code = 2 if r.err and not matched else (0 if matched else 1)
    return r


def wc(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, _, operands, bad = _flags(args, "lwc")
    if bad:
        return _invalid("wc", bad)
    flags = flags or {"l", "w", "c"}
    r = Result()
    for p in operands or ["-"]:
        text, err = (stdin, "") if p == "-" else _read(ctx, "wc", p)
        if err:
            r.err, r.code = r.err + err, 1
            continue
        text = text or ""
        nums = []
        if "l" in flags:
            nums.append(text.count("\n"))
        if "w" in flags:
            nums.append(len(text.split()))
        if "c" in flags:
            nums.append(len(text.encode()))
        cells = [str(n) for n in nums] if len(nums) == 1 else [f"{n:>7}" for n in nums]
        r.out += " ".join(cells) + ("" if p == "-" else f" {p}") + "\n"
    return r


_HUMAN_RX = re.compile(r"^\s*([0-9.]+)([KMGTPE]?)")


def sort(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, _, operands, bad = _flags(args, "rnhu")
    if bad:
        return _invalid("sort", bad)
    text = stdin
    for p in operands:
        t, err = _read(ctx, "sort", p)
        if err:
            return Result(err=err, code=2)
        text += t or ""
    lines = text.splitlines()

    def key(line: str) -> tuple[float, str]:
        m = _HUMAN_RX.match(line)
        if not m or not ({"n", "h"} & flags):
            return (0.0, line)
        value = float(m.group(1) or 0)
        if "h" in flags:
            value *= 1024 ** ("KMGTPE".find(m.group(2)) + 1) if m.group(2) else 1
        return (value, line)

    lines.sort(key=key, reverse="r" in flags)
    if "u" in flags:
        lines = list(dict.fromkeys(lines))
    return Result(out="".join(line + "\n" for line in lines))


def rm(args: list[str], ctx: Ctx, stdin: str) -> Result:
    flags, _, operands, bad = _flags(args, "frRvdi")
    if bad:
        return _invalid("rm", bad)
    r = Result()
    if not operands and "f" not in flags:
        return Result(err="rm: missing operand\n", code=1)
    for p in operands:
        node = ctx.fs.lookup(p)
        if node is None:
            if "f" not in flags:
                r.err += f"rm: cannot remove '{p}': No such file or directory\n"
                r.code = 1
            continue
        if isinstance(node, Dir) and not ({"r", "R"} & flags):
            r.err += f"rm: cannot remove '{p}': Is a directory\n"
            r.code = 1
            continue
        try:
            ctx.fs.remove(p, ctx.now, recursive=True)
        except FsError as exc:
            r.err += f"rm: {exc}\n"
            r.code = 1
            continue
        if "v" in flags:
            r.out += f"removed '{p}'\n"
    return r


# -- small things ------------------------------------------------------------------------


def echo(args: list[str], ctx: Ctx, stdin: str) -> Result:
    newline = True
    while args and args[0] == "-n":
        newline, args = False, args[1:]
    return Result(out=" ".join(args) + ("\n" if newline else ""))


def _const(code: int) -> Command:
    return lambda args, ctx, stdin: Result(code=code)


def _text(fn: Callable[[Ctx], str]) -> Command:
    return lambda args, ctx, stdin: Result(out=fn(ctx) + "\n")


def _exit(args: list[str], ctx: Ctx, stdin: str) -> Result:
    try:
        return Result(code=int(args[0]) % 256 if args else 0)
    except ValueError:
        return Result(err=f"sh: 1: exit: Illegal number: {args[0]}\n", code=2)


def _sleep(args: list[str], ctx: Ctx, stdin: str) -> Result:
    try:
        ctx.sleep += sum(float(a.rstrip("s")) for a in args)
    except ValueError:
        return Result(err=f"sleep: invalid time interval '{args[0]}'\n", code=1)
    return Result()


def _date_cmd(ctx: Ctx) -> str:
    tm = time.gmtime(ctx.now)
    return time.strftime(f"%a %b {tm.tm_mday:>2} %H:%M:%S UTC %Y", tm)


def _uname(args: list[str], ctx: Ctx, stdin: str) -> Result:
    if "-a" in args:
        return Result(
            out=f"Linux {ctx.fs.hostname} 5.10.228-219.884.amzn2.x86_64 #1 SMP "
            "Wed Nov 20 18:31:21 UTC 2024 x86_64 GNU/Linux\n"
        )
    return Result(out="Linux\n")


def _env(ctx: Ctx) -> str:
    env = {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": ctx.fs.hostname,
        "HOME": "/root" if ctx.fs.default_owner == "root" else f"/home/{ctx.fs.default_owner}",
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
    }
    env.update(ctx.env)
    return "\n".join(f"{k}={v}" for k, v in env.items())


def _not_simulated(name: str) -> Command:
    def run(args: list[str], ctx: Ctx, stdin: str) -> Result:
        return Result(
            err=(
                f"{name}: not available in the simulated cluster (it has no real "
                "PostgreSQL; point the cockpit at a real database for this)\n"
            ),
            code=127,
        )

    return run


def _shell(args: list[str], ctx: Ctx, stdin: str) -> Result:
    if args[:1] == ["-c"] and len(args) >= 2:
        return run_script(args[1], ctx, stdin)
    if args and not args[0].startswith("-"):
        return Result(err=f"sh: 0: cannot open {args[0]}: No such file\n", code=2)
    if stdin.strip():  # `kubectl exec -i POD -- sh < script`: one command per line
        total = Result()
        for line in stdin.splitlines():
            r = run_script(line, ctx)
            total.out, total.err, total.code = total.out + r.out, total.err + r.err, r.code
            if line.strip().split()[:1] == ["exit"]:
                break
        return total
    return Result(
        err="sh: interactive shells are not simulated; run one command, "
        "e.g. kubectl exec POD -- df -h\n",
        code=1,
    )


def _redis_cli(args: list[str], ctx: Ctx, stdin: str) -> Result:
    from cockpit.sim.exec_redis import redis_cli

    return redis_cli(args, ctx, stdin)


COMMANDS: dict[str, Command] = {
    "ls": ls,
    "df": df,
    "du": du,
    "cat": cat,
    "head": _head_tail("head"),
    "tail": _head_tail("tail"),
    "grep": grep,
    "wc": wc,
    "sort": sort,
    "rm": rm,
    "echo": echo,
    "true": _const(0),
    "false": _const(1),
    ":": _const(0),
    "exit": _exit,
    "sleep": _sleep,
    "pwd": _text(lambda c: c.fs.cwd),
    "hostname": _text(lambda c: c.fs.hostname),
    "whoami": _text(lambda c: c.fs.default_owner),
    "date": _text(_date_cmd),
    "uname": _uname,
    "env": _text(_env),
    "printenv": _text(_env),
    "sh": _shell,
    "bash": _shell,
    "find": lambda args, ctx, stdin: _find(args, ctx),
    "stat": lambda args, ctx, stdin: _stat_cmd("stat")(args, ctx, stdin),
    "test": lambda args, ctx, stdin: _stat_cmd("test")(args, ctx, stdin),
    "[": lambda args, ctx, stdin: _stat_cmd("bracket")(args, ctx, stdin),
    "touch": lambda args, ctx, stdin: _stat_cmd("touch")(args, ctx, stdin),
    "gzip": lambda args, ctx, stdin: _gzip("gzip", args, ctx),
    "gunzip": lambda args, ctx, stdin: _gzip("gunzip", args, ctx),
    "zcat": lambda args, ctx, stdin: _gzip("gunzip", ["-c", *args], ctx),
}


def _gzip(name: str, args: list[str], ctx: Ctx) -> Result:
    from cockpit.sim.exec_gzip import gzip_cmd

    return gzip_cmd(name, args, ctx)


def _stat_cmd(name: str) -> Command:
    from cockpit.sim import exec_stat

    return getattr(exec_stat, name)


# Commands only some images have.
APP_COMMANDS: dict[str, dict[str, Command]] = {
    "redis": {"redis-cli": _redis_cli},
    "postgres": {
        name: _not_simulated(name)
        for name in ("psql", "pg_dump", "pg_isready", "pg_restore", "pg_dumpall")
    },
    "backup": {name: _not_simulated(name) for name in ("psql", "pg_dump", "pg_restore")},
}


def _find(args: list[str], ctx: Ctx) -> Result:
    from cockpit.sim.exec_find import find

    return find(args, ctx)


def run_argv(argv: list[str], ctx: Ctx, stdin: str = "", shell: bool = False) -> Result:
    """Run one command (argv[0] may be a path such as /bin/ls)."""
    name = posixpath.basename(argv[0])
    app = str(ctx.fs.state.get("app", ""))
    fn = APP_COMMANDS.get(app, {}).get(name) or COMMANDS.get(name)
    if fn is None:
        return Result(err=f"sh: 1: {argv[0]}: not found\n", code=127)
    try:
        return fn(argv[1:], ctx, stdin)
    except FsError as exc:
        return Result(err=f"{name}: {exc}\n", code=1)
