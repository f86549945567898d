"""GNU `find` over a simulated pod filesystem: the tests and actions the runbook uses
(`-type`, `-name`, `-size`, `-mtime`, `-delete`, ...), with GNU's semantics for sizes
(rounded up to the unit), ages (whole days) and `-delete` (depth-first, and a directory
is judged by what it looked like before its contents were deleted).
"""

from __future__ import annotations

import fnmatch
import math
import posixpath
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from cockpit.sim.exec_shell import Ctx, Result
from cockpit.sim.filesystem import Dir, File, FsError, Node, blocks

_UNITS = {"c": 1, "w": 2, "b": 512, "k": 1024, "M": 1024**2, "G": 1024**3}


@dataclass(slots=True)
class Entry:
    path: str  # as printed (starting point as typed + the rest)
    abspath: str
    node: Node
    depth: int
    mtime: float  # as stat() saw it when the entry was first reached
    size: int
    is_dir: bool
    empty: bool
    start: str = ""  # the starting point this entry was reached from (for %P)


class FindError(Exception):
    pass


Pred = Callable[[Entry], bool]


def _numeric(arg: str, name: str) -> tuple[str, float]:
    sign = arg[0] if arg[:1] in "+-" else ""
    try:
        return sign, float(arg[len(sign) :])
    except ValueError:
        raise FindError(f"invalid argument `{arg}' to `{name}'") from None


def _cmp(sign: str, value: float, want: float) -> bool:
    if sign == "+":
        return value > want
    if sign == "-":
        return value < want
    return value == want


class _Parser:
    def __init__(self, args: list[str], ctx: Ctx, out: list[str], err: list[str]) -> None:
        self.args = args
        self.i = 0
        self.ctx = ctx
        self.out = out
        self.err = err
        self.has_action = False
        self.maxdepth = math.inf
        self.mindepth = 0
        self.depth_first = False
        self.failed = False
        self.pruned: set[str] = set()

    def peek(self) -> str | None:
        return self.args[self.i] if self.i < len(self.args) else None

    def take_arg(self, name: str) -> str:
        if self.i >= len(self.args):
            raise FindError(f"missing argument to `{name}'")
        self.i += 1
        return self.args[self.i - 1]

    def parse(self) -> Pred:
        if self.peek() is None:
            return lambda e: True
        expr = self.parse_or()
        if self.peek() is not None:
            raise FindError(f"paths must precede expression: `{self.peek()}'")
        return expr

    def parse_or(self) -> Pred:
        left = self.parse_and()
        while self.peek() in ("-o", "-or"):
            self.i += 1
            right = self.parse_and()
            left = (lambda a, b: lambda e: a(e) or b(e))(left, right)
        return left

    def parse_and(self) -> Pred:
        left = self.parse_unary()
        while self.peek() not in (None, "-o", "-or", ")"):
            if self.peek() in ("-a", "-and"):
                self.i += 1
            right = self.parse_unary()
            left = (lambda a, b: lambda e: a(e) and b(e))(left, right)
        return left

    def parse_unary(self) -> Pred:
        tok = self.take_arg("!")
        if tok in ("!", "-not"):
            inner = self.parse_unary()
            return lambda e: not inner(e)
        if tok == "(":
            inner = self.parse_or()
            if self.peek() != ")":
                raise FindError("invalid expression; I was expecting to find a ')' somewhere")
            self.i += 1
            return inner
        return self.primary(tok)

    def primary(self, tok: str) -> Pred:
        ctx = self.ctx
        if tok in ("-maxdepth", "-mindepth"):
            arg = self.take_arg(tok)
            if not arg.isdigit():
                raise FindError(
                    f"Expected a positive decimal integer argument to {tok}, but got `{arg}'"
                )
            if tok == "-maxdepth":
                self.maxdepth = int(arg)
            else:
                self.mindepth = int(arg)
            return lambda e: True
        if tok in ("-depth", "-d"):
            self.depth_first = True
            return lambda e: True
        if tok in ("-xdev", "-mount", "-noleaf", "-follow", "-ignore_readdir_race", "-daystart"):
            return lambda e: True
        if tok in ("-true",):
            return lambda e: True
        if tok in ("-false",):
            return lambda e: False
        if tok in ("-name", "-iname", "-path", "-wholename", "-ipath"):
            pat = self.take_arg(tok)
            fold = tok in ("-iname", "-ipath")
            pat_cmp = pat.lower() if fold else pat

            def match(e: Entry) -> bool:
                subject = posixpath.basename(e.path.rstrip("/")) or e.path
                if tok in ("-path", "-wholename", "-ipath"):
                    subject = e.path
                if fold:
                    subject = subject.lower()
                return fnmatch.fnmatchcase(subject, pat_cmp)

            return match
        if tok == "-type":
            kinds = self.take_arg(tok).split(",")
            for k in kinds:
                if k not in ("f", "d", "l", "b", "c", "p", "s"):
                    raise FindError(f"Unknown argument to -type: {k}")
            return lambda e: ("d" if e.is_dir else "f") in kinds
        if tok == "-size":
            arg = self.take_arg(tok)
            unit = arg[-1] if arg and arg[-1] in _UNITS else "b"
            sign, want = _numeric(arg.rstrip("cwbkMG") or "x", "-size")
            size_unit = _UNITS[unit]
            return lambda e: _cmp(sign, math.ceil(e.size / size_unit), want)
        if tok in ("-mtime", "-atime", "-ctime", "-mmin", "-amin", "-cmin"):
            sign, want = _numeric(self.take_arg(tok), tok)
            per = 60.0 if tok.endswith("min") else 86400.0
            return lambda e: _cmp(sign, math.floor((ctx.now - e.mtime) / per), want)
        if tok == "-newer":
            ref = ctx.fs.lookup(self.take_arg(tok))
            if ref is None:
                raise FindError(f"‘{self.args[self.i - 1]}’: No such file or directory")
            return lambda e: e.mtime > ref.mtime
        if tok == "-empty":
            return lambda e: e.empty
        if tok in ("-print", "-print0"):
            self.has_action = True
            end = "\0" if tok == "-print0" else "\n"

            def emit(e: Entry) -> bool:
                self.out.append(e.path + end)
                return True

            return emit
        if tok == "-printf":
            self.has_action = True
            fmt = self.take_arg(tok)
            _check_printf(fmt)

            def printf(e: Entry) -> bool:
                self.out.append(_printf(fmt, e))
                return True

            return printf
        if tok == "-ls":
            self.has_action = True

            def ls(e: Entry) -> bool:
                from cockpit.sim.exec_commands import ls_long_line

                line = ls_long_line(e.node, e.path, ctx.now, human=False)
                kib = blocks(e.size) // 1024 if not e.is_dir else 4
                inode = zlib.crc32(e.abspath.encode()) % 9_000_000 + 1000  # stable per path
                self.out.append(f"{inode:>9} {kib:>6} {line}\n")
                return True

            return ls
        if tok == "-prune":

            def prune(e: Entry) -> bool:
                if e.is_dir:
                    self.pruned.add(e.abspath)
                return True

            return prune
        if tok == "-delete":
            self.has_action = True
            self.depth_first = True

            def delete(e: Entry) -> bool:
                try:
                    ctx.fs.remove(e.abspath, ctx.now)
                except FsError as exc:
                    self.err.append(f"find: {exc}\n".replace(e.abspath, e.path))
                    self.failed = True
                    return False
                return True

            return delete
        if tok.startswith("-"):
            if tok in ("-exec", "-execdir", "-ok", "-okdir", "-fprint", "-fls", "-regex"):
                raise FindError(f"{tok} is not supported by the simulated cluster")
            raise FindError(f"unknown predicate `{tok}'")
        raise FindError(f"paths must precede expression: `{tok}'")


_ESCAPES = {"0": "\0", "n": "\n", "t": "\t", "\\": "\\", "a": "\a", "r": "\r"}
_DIRECTIVES = "spPfTyhd%"


def _check_printf(fmt: str) -> None:
    i = 0
    while i < len(fmt):
        if fmt[i] == "%" and i + 1 < len(fmt):
            d = fmt[i + 1]
            if d not in _DIRECTIVES:
                raise FindError(f"-printf directive %{d} is not supported by the simulated cluster")
            if d == "T" and fmt[i + 2 : i + 3] != "@":
                raise FindError("only %T@ of the -printf %T directives is simulated")
            i += 3 if d == "T" else 2
        else:
            i += 1


def _printf(fmt: str, e: Entry) -> str:
    """GNU find's -printf for the directives the cockpit uses (checked beforehand)."""
    out: list[str] = []
    i = 0
    while i < len(fmt):
        c = fmt[i]
        nxt = fmt[i + 1] if i + 1 < len(fmt) else ""
        if c == "\\" and nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif c == "%" and nxt:
            i += 2
            if nxt == "s":
                out.append(str(e.size))
            elif nxt == "p":
                out.append(e.path)
            elif nxt == "f":
                out.append(posixpath.basename(e.path.rstrip("/")) or e.path)
            elif nxt == "P":
                out.append(e.path[len(e.start) :].lstrip("/"))
            elif nxt == "h":
                out.append(posixpath.dirname(e.path) or ".")
            elif nxt == "d":
                out.append(str(e.depth))
            elif nxt == "y":
                out.append("d" if e.is_dir else "f")
            elif nxt == "T":  # %T@: seconds since the epoch, with GNU's ten decimals
                out.append(f"{e.mtime:.10f}")
                i += 1
            else:
                out.append("%")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def find(args: list[str], ctx: Ctx) -> Result:
    while args and args[0] in ("-H", "-L", "-P"):
        args = args[1:]
    starts: list[str] = []
    while args and not args[0].startswith("-") and args[0] not in ("(", "!", ")"):
        starts.append(args[0])
        args = args[1:]
    out: list[str] = []
    err: list[str] = []
    parser = _Parser(args, ctx, out, err)
    try:
        expr = parser.parse()
    except FindError as exc:
        return Result(err=f"find: {exc}\n", code=1)
    if not parser.has_action:
        inner = expr

        def expr(e: Entry) -> bool:
            if inner(e):
                out.append(e.path + "\n")
            return True

    code = 0
    for start in starts or ["."]:
        node = ctx.fs.lookup(start)
        if node is None:
            err.append(f"find: '{start}': No such file or directory\n")
            code = 1
            continue
        _visit(start, ctx.fs.abspath(start), node, 0, parser, expr, start)
    if parser.failed:
        code = 1
    return Result(out="".join(out), err="".join(err), code=code)


def _visit(
    path: str, abspath: str, node: Node, depth: int, p: _Parser, expr: Pred, start: str = ""
) -> None:
    is_dir = isinstance(node, Dir)
    entry = Entry(
        path=path,
        abspath=abspath,
        node=node,
        depth=depth,
        mtime=node.mtime,
        size=node.size if isinstance(node, File) else 4096,
        is_dir=is_dir,
        empty=(not node.children)
        if isinstance(node, Dir)
        else (isinstance(node, File) and node.size == 0),
    )
    if not p.depth_first and depth >= p.mindepth:
        expr(entry)
    if isinstance(node, Dir) and depth < p.maxdepth and abspath not in p.pruned:
        for name, child in list(node.children.items()):
            sep = "" if path.endswith("/") else "/"
            _visit(
                path + sep + name, posixpath.join(abspath, name), child, depth + 1, p, expr, start
            )
    if p.depth_first and depth >= p.mindepth:
        expr(entry)
