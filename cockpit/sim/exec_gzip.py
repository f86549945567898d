"""`gzip -t|-d -c`, `gunzip -c` and `zcat` over the simulated filesystem, for the backup
pod's dumps.  Only files that carry content (the newest dumps do) can be read; for the
rest the message says that their contents are not simulated, as `cat` does."""

from __future__ import annotations

import zlib

from cockpit.sim.exec_commands import _flags, _invalid
from cockpit.sim.exec_shell import Ctx, Result
from cockpit.sim.filesystem import Dir, File


def _gunzip(data: bytes) -> bytes:
    """All members, as gzip -d does; zlib.error on damage or a cut stream."""
    out = []
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out.append(d.decompress(data))
        if not d.eof:
            raise zlib.error("unexpected end of file")
        data = d.unused_data
    return b"".join(out)


def gzip_cmd(name: str, args: list[str], ctx: Ctx) -> Result:
    flags, _, paths, bad = _flags(args, "tdcfkq")
    if bad is not None:
        return _invalid(name, bad)
    test = "t" in flags
    if name == "gzip" and not test and not ("d" in flags and "c" in flags):
        return Result(err=f"{name}: only -t and -dc are simulated\n", code=1)
    if name == "gunzip" and not (test or "c" in flags):
        return Result(err=f"{name}: only -t and -c are simulated (no in-place)\n", code=1)
    r = Result()
    for path in paths:
        node = ctx.fs.lookup(path)
        if node is None:
            r.err += f"{name}: {path}: No such file or directory\n"
            r.code = 1
            continue
        if isinstance(node, Dir):
            r.err += f"{name}: {path} is a directory -- ignored\n"
            r.code = 2
            continue
        assert isinstance(node, File)
        if node.content is None:
            r.err += f"{name}: {path}: contents of this file are not simulated\n"
            r.code = 1
            continue
        try:
            plain = _gunzip(node.content)
        except zlib.error:
            r.err += f"{name}: {path}: unexpected end of file\n"
            r.code = 1
            continue
        if not test:
            r.out += plain.decode("utf-8", "replace")
    return r
