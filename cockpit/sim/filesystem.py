"""A tiny in-memory filesystem per simulated pod, for `kubectl exec` commands.

Files carry a size and an mtime but (except for small text files) no content, so a
pod with 20 GB of PostgreSQL data costs a few hundred Python objects.  Mounts give
`df` its numbers: used = the mount's fixed baseline + the blocks of the files under it,
so deleting files really frees space.  Trees are built lazily on the first exec into a
pod (see `fs_trees.py`) and kept, keyed by pod uid, for the pod's life.
"""

from __future__ import annotations

import math
import posixpath
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

BLOCK = 4096


def blocks(size: int) -> int:
    """Bytes a file of `size` occupies on disk (4 KiB blocks)."""
    return -(-size // BLOCK) * BLOCK


@dataclass(slots=True)
class Node:
    mtime: float
    mode: int
    owner: str


@dataclass(slots=True)
class File(Node):
    size: int = 0
    content: bytes | None = None  # only small text files have content


@dataclass(slots=True)
class Dir(Node):
    children: dict[str, Node] = field(default_factory=dict)


@dataclass(slots=True)
class Mount:
    path: str
    device: str
    size: int  # bytes
    base_used: int  # bytes used by data the tree does not model file by file
    disk: str = ""  # mounts with the same disk share one filesystem (emptyDir on the node)


class FsError(Exception):
    """An errno-style failure; the message is what coreutils would print after 'cmd: '."""


class SimFS:
    """One pod's filesystem."""

    def __init__(self, now: float, hostname: str, cwd: str = "/", owner: str = "root") -> None:
        self.created = now
        self.hostname = hostname
        self.cwd = cwd
        self.root = Dir(mtime=now - 86400 * 30, mode=0o755, owner="root")
        self.mounts: list[Mount] = []
        # Per-pod process state that must survive between execs (e.g. redis CONFIG SET).
        self.state: dict[str, object] = {}
        self.default_owner = owner

    # -- paths -------------------------------------------------------------------------

    def abspath(self, path: str) -> str:
        if not path.startswith("/"):
            path = posixpath.join(self.cwd, path)
        norm = posixpath.normpath(path)
        return "/" if norm.startswith("//") else norm

    def lookup(self, path: str) -> Node | None:
        node: Node = self.root
        for part in self.abspath(path).split("/"):
            if not part:
                continue
            if not isinstance(node, Dir):
                return None
            child = node.children.get(part)
            if child is None:
                return None
            node = child
        return node

    def _dir(self, path: str, create: bool, mtime: float) -> Dir:
        node: Node = self.root
        for part in self.abspath(path).split("/"):
            if not part:
                continue
            assert isinstance(node, Dir)
            child = node.children.get(part)
            if child is None:
                if not create:
                    raise FsError(f"'{path}': No such file or directory")
                child = Dir(mtime=mtime, mode=0o755, owner=node.owner)
                node.children[part] = child
                node.mtime = max(node.mtime, mtime)
            if not isinstance(child, Dir):
                raise FsError(f"'{path}': Not a directory")
            node = child
        assert isinstance(node, Dir)
        return node

    # -- building ----------------------------------------------------------------------

    def mkdir(self, path: str, mtime: float | None = None, owner: str | None = None) -> Dir:
        d = self._dir(path, create=True, mtime=self.created if mtime is None else mtime)
        if owner is not None:
            d.owner = owner
        return d

    def add_file(
        self,
        path: str,
        size: int = 0,
        mtime: float | None = None,
        content: bytes | str | None = None,
        mode: int = 0o644,
        owner: str | None = None,
    ) -> File:
        path = self.abspath(path)
        parent_path, name = posixpath.split(path)
        when = self.created if mtime is None else mtime
        parent = self._dir(parent_path, create=True, mtime=when)
        if isinstance(content, str):
            content = content.encode()
        if content is not None:
            size = len(content)
        f = File(mtime=when, mode=mode, owner=owner or parent.owner, size=size, content=content)
        parent.children[name] = f
        # A directory's mtime is the last time an entry was added to it.
        parent.mtime = max(parent.mtime, when)
        return f

    def add_mount(self, path: str, device: str, size: int, used: int = 0, disk: str = "") -> Mount:
        """Mount a volume at `path`; `used` is its total use *including* files added later
        (`settle_mount` turns it into a baseline once the tree is built).  Mounts given
        the same `disk` are views of one filesystem and report the same usage."""
        self.mkdir(path)
        m = Mount(
            path=self.abspath(path),
            device=device,
            size=size,
            base_used=used,
            disk=disk or self.abspath(path),
        )
        self.mounts.append(m)
        return m

    def settle_mount(self, m: Mount) -> None:
        """Make the mount's total use equal to what was asked, whatever the files add."""
        m.base_used = max(0, m.base_used - self.files_bytes(m))

    # -- queries -----------------------------------------------------------------------

    def mount_for(self, path: str) -> Mount:
        path = self.abspath(path)
        best = self.mounts[0]
        for m in self.mounts:
            inside = path == m.path or path.startswith(m.path.rstrip("/") + "/")
            if inside and len(m.path) >= len(best.path):
                best = m
        return best

    def walk(self, path: str) -> Iterator[tuple[str, Node, int]]:
        """Pre-order (path, node, depth) under `path` (which must exist)."""
        start = self.lookup(path)
        if start is None:
            raise FsError(f"'{path}': No such file or directory")
        stack: list[tuple[str, Node, int]] = [(self.abspath(path), start, 0)]
        while stack:
            p, node, depth = stack.pop()
            yield p, node, depth
            if isinstance(node, Dir):
                for name, child in reversed(list(node.children.items())):
                    stack.append((posixpath.join(p, name), child, depth + 1))

    def files_bytes(self, m: Mount) -> int:
        """Disk bytes of the files on mount `m` (not counting nested mounts)."""
        other = [x.path for x in self.mounts if x is not m and x.path.startswith(m.path)]
        total = 0
        for p, node, _ in self.walk(m.path):
            if isinstance(node, File) and not any(
                p == o or p.startswith(o.rstrip("/") + "/") for o in other
            ):
                total += blocks(node.size)
        return total

    def used(self, m: Mount) -> int:
        same = [x for x in self.mounts if x.disk == m.disk]
        return min(m.size, sum(x.base_used + self.files_bytes(x) for x in same))

    def du(self, path: str) -> int:
        total = 0
        for _, node, _ in self.walk(path):
            total += blocks(node.size) if isinstance(node, File) else BLOCK
        return total

    # -- changes -----------------------------------------------------------------------

    def remove(self, path: str, now: float, recursive: bool = False) -> None:
        path = self.abspath(path)
        if path == "/" or any(m.path == path for m in self.mounts):
            raise FsError(f"cannot remove '{path}': Device or resource busy")
        parent_path, name = posixpath.split(path)
        parent = self.lookup(parent_path)
        node = parent.children.get(name) if isinstance(parent, Dir) else None
        if node is None or not isinstance(parent, Dir):
            raise FsError(f"cannot remove '{path}': No such file or directory")
        if isinstance(node, Dir) and node.children and not recursive:
            raise FsError(f"cannot delete '{path}': Directory not empty")
        del parent.children[name]
        parent.mtime = now


def human(n: float) -> str:
    """coreutils `-h` formatting: powers of 1024, rounded up, one decimal below 10."""
    if n < 1024:
        return str(int(n))
    for unit in "KMGTPE":
        n /= 1024
        if n < 10:
            v = math.ceil(n * 10) / 10
            if v < 10:
                return f"{v:.1f}{unit}"
            n = v
        if n < 1024 or unit == "E":
            v = math.ceil(n)
            if v < 1024 or unit == "E":
                return f"{v}{unit}"
    return str(int(n))  # pragma: no cover


Builder = Callable[[dict, str, float, int], SimFS]


class FileSystems:
    """Pod uid -> SimFS, built on first use; bounded so a `large` scenario stays small."""

    def __init__(
        self,
        scenario: str,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        capacity: int = 256,
        builder: Builder | None = None,
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.seed = seed
        self.capacity = capacity
        self._fs: OrderedDict[str, SimFS] = OrderedDict()
        if builder is None:
            from cockpit.sim.fs_trees import build_fs

            builder = build_fs
        self._builder = builder

    def get(self, pod: dict) -> SimFS:
        uid = str(pod.get("metadata", {}).get("uid") or pod["metadata"]["name"])
        fs = self._fs.get(uid)
        if fs is None:
            fs = self._builder(pod, self.scenario, self.clock(), self.seed)
            self._fs[uid] = fs
            while len(self._fs) > self.capacity:
                self._fs.popitem(last=False)
        else:
            self._fs.move_to_end(uid)
        return fs
