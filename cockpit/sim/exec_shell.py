"""Just enough of `sh -c` for ops one-liners: `;`, `&&`, `||`, pipes, globs,
redirections to /dev/null (or a small file), and `$(...)` command substitution (run
when its command runs, as sh does).  No variables, no loops.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass, field

from cockpit.sim.filesystem import Dir, FsError, SimFS


@dataclass(slots=True)
class Result:
    out: str = ""
    err: str = ""
    code: int = 0


@dataclass(slots=True)
class Ctx:
    """What a command may look at: the pod's filesystem, its identity and the time."""

    fs: SimFS
    pod: dict
    container: str
    scenario: str
    now: float
    tty: bool = False
    sleep: float = 0.0  # seconds the command asked to sleep (the server waits, capped)
    env: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Word:
    text: str
    glob: bool  # has an unquoted * ? or [
    # With a `$(...)`: the word's pieces, (literal text, None) or (script, quoted?).
    parts: list[tuple[str, bool | None]] | None = None


OPERATORS = ("2>&1", "1>&2", ">&2", "&&", "||", ">>", "2>", ";", "|", ">", "<", "&")


class ShellSyntaxError(Exception):
    pass


def tokenize(line: str) -> list[Word | str]:
    """Split a command line into words and operator strings, honouring quotes."""
    tokens: list[Word | str] = []
    buf: list[str] = []
    parts: list[tuple[str, bool | None]] = []
    glob = False
    have_word = False
    i, n = 0, len(line)

    def flush() -> None:
        nonlocal buf, glob, have_word, parts
        if have_word:
            if parts:
                parts.append(("".join(buf), None))
                tokens.append(Word("", False, [p for p in parts if p[0] or p[1] is not None]))
            else:
                tokens.append(Word("".join(buf), glob))
        buf, glob, have_word, parts = [], False, False, []

    def substitution(start: int, quoted: bool) -> int:
        """Record the `$(...)` whose body starts at `start`; return the index after it."""
        end = _subst_end(line, start)
        parts.append(("".join(buf), None))
        buf.clear()
        parts.append((line[start:end], quoted))
        return end + 1

    while i < n:
        c = line[i]
        if c in " \t\n":
            flush()
            i += 1
        elif c == "'":
            j = line.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("Syntax error: Unterminated quoted string")
            buf.append(line[i + 1 : j])
            have_word = True
            i = j + 1
        elif c == '"':
            i += 1
            have_word = True
            while i < n and line[i] != '"':
                if line.startswith("$(", i):
                    i = substitution(i + 2, True)
                    continue
                if line[i] == "\\" and i + 1 < n and line[i + 1] in '"\\$`':
                    i += 1
                buf.append(line[i])
                i += 1
            if i >= n:
                raise ShellSyntaxError("Syntax error: Unterminated quoted string")
            i += 1
        elif c == "\\" and i + 1 < n:
            buf.append(line[i + 1])
            have_word = True
            i += 2
        elif c == "#" and not have_word:
            break
        elif line.startswith("$(", i):
            have_word = True
            i = substitution(i + 2, False)
        else:
            op = next((o for o in OPERATORS if line.startswith(o, i)), None)
            # "2>" is only a redirection at the start of a word.
            if op is not None and op[0] in "12" and have_word:
                op = None
            if op is not None:
                flush()
                tokens.append(op)
                i += len(op)
            else:
                buf.append(c)
                have_word = True
                glob = glob or c in "*?["
                i += 1
    flush()
    return tokens


def _subst_end(line: str, i: int) -> int:
    """Index of the `)` closing a `$(` whose body starts at `i` (quotes and nesting kept)."""
    depth, n = 1, len(line)
    while i < n:
        c = line[i]
        if c == "'":
            j = line.find("'", i + 1)
            if j < 0:
                break
            i = j + 1
            continue
        if c == '"':
            i += 1
            while i < n and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
            continue
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ShellSyntaxError('Syntax error: end of file unexpected (expecting ")")')


def _expand(word: Word, ctx: Ctx) -> list[str]:
    """The argv words of one `Word`: substitutions run now; unquoted ones are split."""
    assert word.parts is not None
    words: list[str] = []
    cur: str | None = None
    for text, quoted in word.parts:
        if quoted is None:
            cur = (cur or "") + text
            continue
        out = run_script(text, ctx).out.rstrip("\n")
        if quoted:
            cur = (cur or "") + out
            continue
        fields = out.split()
        if not fields:
            continue
        if out[:1].isspace() and cur is not None:
            words.append(cur)
            cur = None
        for k, f in enumerate(fields):
            if k == 0:
                cur = (cur or "") + f
            else:
                words.append(cur or "")
                cur = f
        if out[-1:].isspace():
            words.append(cur or "")
            cur = None
    if cur is not None:
        words.append(cur)
    return words


def expand_glob(fs: SimFS, pattern: str) -> list[str]:
    """Paths in `fs` matching `pattern` (sorted), or [] when none do."""
    absolute = pattern.startswith("/")
    parts = [p for p in pattern.split("/") if p]
    found = ["/"] if absolute else [""]
    for part in parts:
        nxt: list[str] = []
        for base in found:
            node = fs.lookup(base or fs.cwd)
            if not isinstance(node, Dir):
                continue
            if not any(ch in part for ch in "*?["):
                if part in node.children or part in (".", ".."):
                    nxt.append(posixpath.join(base, part) if base else part)
                continue
            for name in sorted(node.children):
                if name.startswith(".") and not part.startswith("."):
                    continue
                if fnmatch.fnmatchcase(name, part):
                    nxt.append(posixpath.join(base, name) if base else name)
        found = nxt
    return found


@dataclass(slots=True)
class Simple:
    argv: list[str]
    stdout_to: str | None = None  # None: pipe/terminal; "/dev/null" or a path
    append: bool = False
    stderr_to: str | None = None  # "/dev/null" or "&1"


def _parse_simple(tokens: list[Word | str], fs: SimFS, ctx: Ctx | None = None) -> Simple:
    cmd = Simple(argv=[])
    it = iter(tokens)
    for tok in it:
        if isinstance(tok, Word):
            if tok.parts is not None:
                if ctx is None:
                    raise ShellSyntaxError("command substitution is not supported here")
                cmd.argv.extend(_expand(tok, ctx))
            elif tok.glob:
                cmd.argv.extend(expand_glob(fs, tok.text) or [tok.text])
            else:
                cmd.argv.append(tok.text)
        elif tok in (">", ">>", "2>", "<"):
            target = next(it, None)
            if not isinstance(target, Word):
                raise ShellSyntaxError("Syntax error: newline unexpected")
            if tok == "<":
                raise ShellSyntaxError("input redirection is not supported in the simulated shell")
            if tok == "2>":
                cmd.stderr_to = target.text
            else:
                cmd.stdout_to, cmd.append = target.text, tok == ">>"
        elif tok == "2>&1":
            cmd.stderr_to = "&1"
        elif tok in (">&2", "1>&2"):
            cmd.stdout_to = "&2"
        else:
            raise ShellSyntaxError(f'Syntax error: "{tok}" unexpected')
    return cmd


def _split(tokens: list[Word | str], seps: tuple[str, ...]) -> list[tuple[str, list[Word | str]]]:
    """[(separator before, tokens)] split on the given operators."""
    parts: list[tuple[str, list[Word | str]]] = [("", [])]
    for tok in tokens:
        if isinstance(tok, str) and tok in seps:
            parts.append((tok, []))
        else:
            parts[-1][1].append(tok)
    return parts


def run_script(line: str, ctx: Ctx, stdin: str = "") -> Result:
    """Run one `sh -c` line."""
    from cockpit.sim.exec_commands import run_argv

    try:
        tokens = tokenize(line)
    except ShellSyntaxError as exc:
        return Result(err=f"sh: 1: {exc}\n", code=2)
    if "&" in tokens:
        return Result(
            err="sh: 1: background jobs are not supported in the simulated shell\n", code=2
        )
    total = Result()
    last = 0
    for sep, chunk in _split(tokens, (";", "&&", "||")):
        if not chunk:
            if sep:
                return Result(
                    total.out, total.err + f'sh: 1: Syntax error: "{sep}" unexpected\n', 2
                )
            continue
        if (sep == "&&" and last != 0) or (sep == "||" and last == 0):
            continue
        data = stdin
        exiting = False
        for _, part in _split(chunk, ("|",)):
            if not part:
                return Result(total.out, total.err + 'sh: 1: Syntax error: "|" unexpected\n', 2)
            try:
                cmd = _parse_simple(part, ctx.fs, ctx)
            except ShellSyntaxError as exc:
                return Result(total.out, total.err + f"sh: 1: {exc}\n", 2)
            r = run_argv(cmd.argv, ctx, data, shell=True) if cmd.argv else Result()
            if cmd.stderr_to == "&1":
                r.out, r.err = r.out + r.err, ""
            elif cmd.stderr_to is not None:
                err = _write(ctx, cmd.stderr_to, r.err, False)
                r.err = err
            if cmd.stdout_to == "&2":
                r.out, r.err = "", r.err + r.out
            elif cmd.stdout_to is not None:
                err = _write(ctx, cmd.stdout_to, r.out, cmd.append)
                r.out = ""
                if err:
                    r.err, r.code = r.err + err, 2
            total.err += r.err
            data = r.out
            last = r.code
            exiting = cmd.argv[:1] == ["exit"]
        total.out += data
        if exiting:
            break
    total.code = last
    return total


def _write(ctx: Ctx, target: str, text: str, append: bool) -> str:
    """Redirect output to `target`; returns an error message or ''."""
    if target == "/dev/null":
        return ""
    if target == "/dev/stderr":
        return text
    fs = ctx.fs
    node = fs.lookup(target)
    if isinstance(node, Dir):
        return f"sh: 1: cannot create {target}: Is a directory\n"
    old = b""
    if append and node is not None:
        old = getattr(node, "content", None) or b""
    data = (old + text.encode())[: 1024 * 1024]  # keep a pod's memory bounded
    if not isinstance(fs.lookup(posixpath.dirname(fs.abspath(target))), Dir):
        return f"sh: 1: cannot create {target}: Directory nonexistent\n"
    try:
        fs.add_file(target, content=data, mtime=ctx.now)
    except FsError:
        return f"sh: 1: cannot create {target}: Directory nonexistent\n"
    return ""
