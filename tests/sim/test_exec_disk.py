"""The simulated pod's disk tools against the real ones: `find -printf`, `stat -c`,
`[`, `touch -d @…`, `$(...)` and `df -P -B1` print what GNU coreutils/findutils and
dash print for the same files (same paths, sizes and mtimes, hostile names included),
and the real kubectl reads them through the simulated exec API."""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from cockpit.sim.exec import ExecServer
from cockpit.sim.runner import SimCluster
from cockpit.sources.disk.df import parse_df

DAY = 86400
NAMES = ("plain.log", "a b.log", "it's.log", "new\nline.log", "$(touch pwned).log", "-x.log")


def pod() -> dict:
    return {
        "metadata": {"name": "lab", "namespace": "excel-unified", "uid": "u-lab"},
        "spec": {"containers": [{"name": "lab", "image": "lab:1"}]},
    }


def twin(tmp_path: Path) -> tuple[ExecServer, dict, Path]:
    """The same files, same absolute paths, sizes and mtimes: on disk and in the sim."""
    # The real clock: the real find measures ages from it.
    server = ExecServer("healthy", clock=time.time, seed=1)
    p = pod()
    fs = server.filesystems.get(p)
    root = tmp_path / "logs"
    root.mkdir()
    now = int(time.time())
    for i, name in enumerate(NAMES):
        # 6 to 11 days and an hour old, plus a quarter second (exact in binary and in ns).
        whole = now - (i + 6) * DAY - 3600
        size, mtime = 1000 * (i + 1), whole + 0.25
        path = root / name
        path.write_bytes(b"x" * size)
        ns = whole * 10**9 + 250_000_000
        os.utime(path, ns=(ns, ns))
        fs.add_file(str(path), size=size, mtime=mtime)
    return server, p, root


def sim_run(server: ExecServer, p: dict, *argv: str) -> tuple[int, str, str]:
    result, _ = server.run(p, "lab", list(argv))
    return result.code, result.out, result.err


def real_run(*argv: str, cwd: Path) -> tuple[int, str, str]:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, check=False)
    return done.returncode, done.stdout, done.stderr


def test_find_printf_matches_gnu_find(tmp_path: Path) -> None:
    server, p, root = twin(tmp_path)
    argv = ("find", str(root), "-type", "f", "-name", "*.log", "-mtime", "+7",
            "-printf", "%s %T@ %p\\0")  # fmt: skip
    code, out, _ = sim_run(server, p, *argv)
    real = real_run(*argv, cwd=tmp_path)
    assert code == real[0] == 0
    # GNU find lists a directory in readdir order: compare the records as sets.
    assert out.endswith("\0") and set(out.split("\0")) == set(real[1].split("\0"))
    assert sum(1 for r in out.split("\0") if r) == 4  # 8, 9, 10 and 11 days old


def test_stat_test_and_substitution_match_dash_and_coreutils(tmp_path: Path) -> None:
    server, p, root = twin(tmp_path)
    for name in NAMES:
        q = shlex.quote(str(root / name))
        size = (root / name).stat().st_size
        mtime = int((root / name).stat().st_mtime)
        script = (
            f"stat -c '%s %Y %n' -- {q}; "
            f"[ \"$(stat -c '%s %Y' -- {q} 2>/dev/null)\" = '{size} {mtime}' ] && echo same"
            f" || echo \"differs $(stat -c '%s %Y' -- {q})\"; "
            f'[ "$(stat -c \'%s\' -- {q})" = 1 ] && echo one || echo "not one: $(echo a  b)"'
        )
        assert sim_run(server, p, "sh", "-c", script) == real_run("sh", "-c", script, cwd=root)
    # The substitution ran nothing from a file's name.
    assert (
        not (root / "pwned").exists()
        and server.filesystems.get(p).lookup(str(root / "pwned")) is None
    )


def test_check_then_remove_one_liner_behaves_the_same(tmp_path: Path) -> None:
    server, p, root = twin(tmp_path)
    target = shlex.quote(str(root / "new\nline.log"))
    stale = shlex.quote(str(root / "a b.log"))
    size = (root / "new\nline.log").stat().st_size
    mtime = int((root / "new\nline.log").stat().st_mtime)
    line = (
        "[ \"$(stat -c '%s %Y' -- {q} 2>/dev/null)\" = {want} ] && rm -f -- {q} "
        "&& echo 'D {i}' || echo \"N {i} $(stat -c '%s %Y' -- {q} 2>/dev/null)\""
    )
    script = "; ".join(
        [
            line.format(q=target, want=shlex.quote(f"{size} {mtime}"), i=0),
            line.format(q=stale, want=shlex.quote("1 2"), i=1),  # not what it is now: kept
            line.format(q=shlex.quote(str(root / "gone.log")), want="'1 2'", i=2),
        ]
    )
    sim = sim_run(server, p, "sh", "-c", script)
    real = real_run("sh", "-c", script, cwd=root)
    assert sim == real
    assert sim[1].splitlines()[0] == "D 0" and sim[1].splitlines()[2] == "N 2 "
    assert not (root / "new\nline.log").exists() and (root / "a b.log").exists()
    fs = server.filesystems.get(p)
    assert fs.lookup(str(root / "new\nline.log")) is None and fs.lookup(str(root / "a b.log"))


def test_touch_sets_mtime_and_refuses_a_missing_directory(tmp_path: Path) -> None:
    server, p, root = twin(tmp_path)
    path = str(root / "plain.log")
    for run in (lambda *a: sim_run(server, p, *a), lambda *a: real_run(*a, cwd=root)):
        assert run("touch", "-d", "@1700000000", "--", path)[0] == 0
        assert run("stat", "-c", "%Y", path)[1] == "1700000000\n"
        code, _, err = run("touch", str(root / "no-such-dir" / "f"))
        assert code == 1 and "cannot touch" in err


def test_df_posix_bytes_header_is_gnu_s(tmp_path: Path) -> None:
    server, p, _ = twin(tmp_path)
    _, sim_out, _ = sim_run(server, p, "df", "-P", "-B1", "/")
    _, real_out, _ = real_run("df", "-P", "-B1", "/", cwd=tmp_path)
    assert sim_out.splitlines()[0].split() == real_out.splitlines()[0].split()
    assert parse_df(sim_out)[0].mount == "/" and parse_df(real_out)[0].mount == "/"
    _, k_out, _ = sim_run(server, p, "df", "-P", "/")
    _, real_k, _ = real_run("df", "-P", "/", cwd=tmp_path)
    assert k_out.splitlines()[0].split() == real_k.splitlines()[0].split()
    _, b_out, _ = sim_run(server, p, "df", "-B1", "/")
    _, real_b, _ = real_run("df", "-B1", "/", cwd=tmp_path)
    assert b_out.splitlines()[0].split() == real_b.splitlines()[0].split()
    assert sim_run(server, p, "df", "-B", "x1", "/")[0] == 1


def test_kubectl_reads_postgres_disk_at_90_percent(
    make_sim: Callable[..., SimCluster], make_kubectl: Callable[[SimCluster], object]
) -> None:
    sim = make_sim("incident")
    kubectl = make_kubectl(sim)
    out = kubectl("exec", "postgres-0", "--", "df", "-P", "-B1", "/var/lib/postgresql/data")  # type: ignore[operator]
    (row,) = parse_df(out.stdout)
    assert row.mount == "/var/lib/postgresql/data" and row.percent == 90
    human = kubectl("exec", "postgres-0", "--", "df", "-h", "/var/lib/postgresql/data")  # type: ignore[operator]
    assert human.stdout.splitlines()[1].split()[1:5] == ["50G", "45G", "5.0G", "90%"]


def test_substitution_edges_match_dash(tmp_path: Path) -> None:
    server, p, _ = twin(tmp_path)
    for script in (
        "echo $(echo a",
        "echo \"$(echo 'a)b')\"",
        "echo $(echo $(echo nested))",
        "echo x$(true)y $(echo  two   words)",
        "[ a = a ] && echo y",
        "[ a = b",
        "[ -f /no/such ] || echo absent",
    ):
        assert sim_run(server, p, "sh", "-c", script) == real_run(
            "sh", "-c", script, cwd=tmp_path
        ), script
