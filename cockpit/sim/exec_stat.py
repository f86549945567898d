"""`stat`, `test` / `[` and `touch` over a simulated pod filesystem: what a careful
clean-up needs to check a file is still the one it was shown (size and mtime) before
removing it, with GNU coreutils' spelling of formats, errors and exit codes.
"""

from __future__ import annotations

import math
import posixpath
import time

from cockpit.sim.exec_shell import Ctx, Result
from cockpit.sim.filesystem import Dir, File, FsError, Node


def _size(node: Node) -> int:
    return node.size if isinstance(node, File) else 4096


def _kind(node: Node) -> str:
    if isinstance(node, Dir):
        return "directory"
    return "regular empty file" if _size(node) == 0 else "regular file"


def _stamp(t: float) -> str:
    frac = f"{t - math.floor(t):.9f}"[1:]
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(math.floor(t))) + f"{frac} +0000"


def _format(fmt: str, path: str, node: Node) -> str:
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%" or i + 1 >= len(fmt):
            out.append(c)
            i += 1
            continue
        d = fmt[i + 1]
        i += 2
        if d == "s":
            out.append(str(_size(node)))
        elif d == "Y":
            out.append(str(math.floor(node.mtime)))
        elif d == "y":
            out.append(_stamp(node.mtime))
        elif d == "n":
            out.append(path)
        elif d == "F":
            out.append(_kind(node))
        elif d == "U" or d == "G":
            out.append(node.owner)
        elif d == "a":
            out.append(f"{node.mode:o}")
        elif d == "%":
            out.append("%")
        else:
            out.append("?")
    return "".join(out)


def stat(args: list[str], ctx: Ctx, stdin: str) -> Result:
    fmt: str | None = None
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            files.extend(args[i:])
            break
        if a in ("-c", "--format") and i < len(args):
            fmt, i = args[i], i + 1
        elif a.startswith("--format="):
            fmt = a.split("=", 1)[1]
        elif a.startswith("-c") and len(a) > 2:
            fmt = a[2:]
        elif a in ("-L", "--dereference"):
            continue
        elif a.startswith("-") and len(a) > 1:
            return Result(
                err=f"stat: invalid option -- '{a.lstrip('-')[:1]}'\n"
                "Try 'stat --help' for more information.\n",
                code=1,
            )
        else:
            files.append(a)
    if not files:
        return Result(
            err="stat: missing operand\nTry 'stat --help' for more information.\n", code=1
        )
    r = Result()
    for p in files:
        node = ctx.fs.lookup(p)
        if node is None:
            r.err += f"stat: cannot statx '{p}': No such file or directory\n"
            r.code = 1
            continue
        if fmt is not None:
            r.out += _format(fmt, p, node) + "\n"
        else:
            r.out += (
                f"  File: {p}\n  Size: {_size(node):<15} Blocks: {-(-_size(node) // 512):<10} "
                f"IO Block: 4096   {_kind(node)}\n"
                f"Modify: {_stamp(node.mtime)}\n"
            )
    return r


def _unary(op: str, arg: str, ctx: Ctx) -> bool | None:
    node = ctx.fs.lookup(arg) if op in ("-e", "-f", "-d", "-s") else None
    if op == "-e":
        return node is not None
    if op == "-f":
        return isinstance(node, File)
    if op == "-d":
        return isinstance(node, Dir)
    if op == "-s":
        return node is not None and _size(node) > 0
    if op == "-n":
        return arg != ""
    if op == "-z":
        return arg == ""
    return None


def _eval(args: list[str], ctx: Ctx) -> bool:
    if args[:1] == ["!"]:
        return not _eval(args[1:], ctx)
    if len(args) == 0:
        return False
    if len(args) == 1:
        return args[0] != ""
    if len(args) == 2:
        got = _unary(args[0], args[1], ctx)
        if got is None:
            raise ValueError(f"{args[0]}: unexpected operator")
        return got
    if len(args) == 3:
        a, op, b = args
        if op == "=":
            return a == b
        if op == "!=":
            return a != b
        if op in ("-eq", "-ne", "-lt", "-le", "-gt", "-ge"):
            try:
                x, y = int(a), int(b)
            except ValueError:
                bad = a if not a.lstrip("-").isdigit() else b
                raise ValueError(f"Illegal number: {bad}") from None
            return {
                "-eq": x == y,
                "-ne": x != y,
                "-lt": x < y,
                "-le": x <= y,
                "-gt": x > y,
                "-ge": x >= y,
            }[op]
        raise ValueError(f"{op}: unexpected operator")
    raise ValueError(f"{args[3]}: unexpected operator")


def test(args: list[str], ctx: Ctx, stdin: str) -> Result:
    try:
        return Result(code=0 if _eval(args, ctx) else 1)
    except ValueError as exc:
        return Result(err=f"sh: 1: test: {exc}\n", code=2)


def bracket(args: list[str], ctx: Ctx, stdin: str) -> Result:
    if args[-1:] != ["]"]:
        return Result(err="sh: 1: [: missing ]\n", code=2)
    try:
        return Result(code=0 if _eval(args[:-1], ctx) else 1)
    except ValueError as exc:
        return Result(err=f"sh: 1: [: {exc}\n", code=2)


def touch(args: list[str], ctx: Ctx, stdin: str) -> Result:
    when = ctx.now
    create = True
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a == "--":
            files.extend(args[i:])
            break
        if a in ("-d", "--date") and i < len(args):
            raw, i = args[i], i + 1
            if not raw.startswith("@"):
                return Result(
                    err=f"touch: invalid date format '{raw}' (the simulated touch knows @EPOCH)\n",
                    code=1,
                )
            try:
                when = float(raw[1:])
            except ValueError:
                return Result(err=f"touch: invalid date format '{raw}'\n", code=1)
        elif a in ("-c", "--no-create"):
            create = False
        elif a in ("-m", "-a"):
            continue
        elif a.startswith("-") and len(a) > 1:
            return Result(err=f"touch: invalid option -- '{a[1]}'\n", code=1)
        else:
            files.append(a)
    if not files:
        return Result(err="touch: missing file operand\n", code=1)
    r = Result()
    for p in files:
        node = ctx.fs.lookup(p)
        if node is not None:
            node.mtime = when
        elif create:
            parent = ctx.fs.lookup(posixpath.dirname(ctx.fs.abspath(p)))
            try:
                if not isinstance(parent, Dir):
                    raise FsError(p)
                ctx.fs.add_file(p, size=0, mtime=when, content=b"")
            except FsError:
                r.err += f"touch: cannot touch '{p}': No such file or directory\n"
                r.code = 1
    return r
