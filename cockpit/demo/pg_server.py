"""Throwaway PostgreSQL clusters from the local binaries: the demo's and the tests'.

Binaries come from $COCKPIT_TEST_PG_BINDIR, /usr/lib/postgresql/*/bin, pg_config or
PATH.  PostgreSQL refuses to run as root: as root the server runs as the `postgres` OS
user (runuser), in a temporary directory it owns, on a free port of 127.0.0.1, with its
unix socket in that directory.  Every server started here is destroyed at exit (atexit).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

OWNED_SUPERUSER = "postgres"


class PgServer:
    """Connection parameters for one server and database; `dsn()` builds libpq strings."""

    def __init__(self, params: dict[str, object], *, owned: bool = False) -> None:
        self.params = {k: v for k, v in params.items() if v is not None}
        self.owned = owned

    @property
    def host(self) -> str:
        return str(self.params.get("host", "127.0.0.1"))

    @property
    def port(self) -> int:
        return int(self.params.get("port", 5432))  # type: ignore[call-overload]

    @property
    def user(self) -> str:
        return str(self.params.get("user", "postgres"))

    @property
    def dbname(self) -> str:
        return str(self.params.get("dbname", "postgres"))

    @property
    def password(self) -> str | None:
        value = self.params.get("password")
        return None if value is None else str(value)

    def dsn(self, **overrides: object) -> str:
        """A key=value DSN; an override of None removes that key."""
        merged = {**self.params, **overrides}
        return make_conninfo(**{k: v for k, v in merged.items() if v is not None})

    def with_params(self, **overrides: object) -> PgServer:
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        merged = {**self.params, **overrides}
        clone.params = {k: v for k, v in merged.items() if v is not None}
        return clone

    def connect(self, **overrides: object) -> psycopg.Connection:
        """A sync autocommit connection (setup and teardown)."""
        return psycopg.connect(self.dsn(**overrides), autocommit=True)

    async def aconnect(self, **overrides: object) -> psycopg.AsyncConnection:
        """An async autocommit connection: the sessions a test opens."""
        return await psycopg.AsyncConnection.connect(self.dsn(**overrides), autocommit=True)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.host}:{self.port}/{self.dbname} as {self.user}>"


# -- throwaway servers ----------------------------------------------------------------


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl, newest major version first."""
    explicit = os.environ.get("COCKPIT_TEST_PG_BINDIR")
    candidates = [Path(explicit)] if explicit else []
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    versions.sort(key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0)
    candidates += [Path(p) for p in reversed(versions)]
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, check=True)
            candidates.append(Path(out.stdout.decode().strip()))
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the `postgres` OS user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _run(argv: list[str], timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(_as_server_user(argv), capture_output=True, timeout=timeout, check=False)


def _check(result: subprocess.CompletedProcess[bytes], what: str) -> None:
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")[-2000:]
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{output}")


def _new_dir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


HBA = """\
# Written by the cockpit's test fixtures.
local all all trust
host all {superuser} 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""

_TEMPLATE: dict[str, Path] = {}
_LIVE: set[ThrowawayServer] = set()


def _template_datadir(bindir: Path) -> Path:
    """initdb once per process; each throwaway server copies it (much faster)."""
    if "dir" not in _TEMPLATE:
        root = _new_dir("cockpit-pg-template-")
        data = root / "data"
        result = _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                OWNED_SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        _check(result, "initdb")
        _TEMPLATE["dir"] = data
        atexit.register(shutil.rmtree, root, True)
    return _TEMPLATE["dir"]


class ThrowawayServer(PgServer):
    """A PostgreSQL cluster of our own in a temporary directory."""

    def __init__(
        self,
        *,
        max_connections: int = 100,
        preload: tuple[str, ...] = ("pg_stat_statements",),
        settings: dict[str, str] | None = None,
        bindir: Path | None = None,
        port: int | None = None,
    ) -> None:
        bindir = bindir or find_bindir()
        if bindir is None:
            raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) found")
        self.bindir = bindir
        self.root = _new_dir("cockpit-pg-")
        self.datadir = self.root / "data"
        self.logfile = self.root / "server.log"
        port = port or free_port()  # the demo picks it early, before the server exists
        super().__init__(
            {"host": "127.0.0.1", "port": port, "user": OWNED_SUPERUSER, "dbname": "postgres"},
            owned=True,
        )
        result = _run(["cp", "-a", str(_template_datadir(bindir)), str(self.datadir)])
        _check(result, "copying the template cluster")
        conf = {
            "port": str(port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.root}'",
            "max_connections": str(max_connections),
            "shared_preload_libraries": "'{}'".format(",".join(preload)),
            # A test server: durability is not the point, speed is.
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "password_encryption": "'scram-sha-256'",
            **(settings or {}),
        }
        lines = "".join(f"{key} = {value}\n" for key, value in conf.items())
        self._write(self.datadir / "postgresql.conf", lines, append=True)
        self._write(self.datadir / "pg_hba.conf", HBA.format(superuser=OWNED_SUPERUSER))
        _LIVE.add(self)

    @property
    def socket_dir(self) -> Path:
        return self.root

    def _write(self, path: Path, text: str, append: bool = False) -> None:
        # The files belong to the postgres OS user; as root we may still write them.
        with path.open("a" if append else "w") as f:
            f.write(text)

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        return _run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args])

    def start(self) -> None:
        result = self._pg_ctl("-w", "-t", "30", "-l", str(self.logfile), "start")
        _check(result, f"starting PostgreSQL ({self.log_tail()})")

    def stop(self, mode: str = "fast") -> None:
        result = self._pg_ctl("-w", "-t", "30", "-m", mode, "stop")
        _check(result, "stopping PostgreSQL")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def is_running(self) -> bool:
        return self._pg_ctl("status").returncode == 0

    def ensure_running(self) -> None:
        if not self.is_running():
            self.start()

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        if self in _LIVE:
            _LIVE.discard(self)
            with contextlib.suppress(Exception):
                if self.is_running():
                    self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # Identity, not parameters, decides membership of _LIVE.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> bool:
        return self is other


@atexit.register
def _destroy_leftovers() -> None:
    for server in list(_LIVE):
        server.destroy()


def start_throwaway(**kwargs: object) -> ThrowawayServer:
    server = ThrowawayServer(**kwargs)  # type: ignore[arg-type]
    try:
        server.start()
    except Exception:
        server.destroy()
        raise
    return server
