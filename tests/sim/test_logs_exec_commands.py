"""The simulated container commands and the log generator, without any network."""

from __future__ import annotations

import itertools
import time

import pytest

from cockpit.sim.exec import ExecServer, choose_protocol, exit_status
from cockpit.sim.filesystem import SimFS, human
from cockpit.sim.log_lines import kube_ts
from cockpit.sim.log_stream import Timeline
from cockpit.sim.logs import LogBook, Run
from cockpit.sim.pace import Pace

NOW = 1_795_000_000.0  # a fixed "now" (2026-11-18), so mtimes and ages are exact
DAY = 86400


def pod(name: str, app: str, uid: str | None = None) -> dict:
    return {
        "metadata": {
            "name": name,
            "namespace": "excel-unified",
            "uid": uid or f"uid-{name}",
            "labels": {"app": app},
        },
        "spec": {"containers": [{"name": app, "image": f"{app}:1"}]},
        "status": {
            "phase": "Running",
            "containerStatuses": [
                {"name": app, "restartCount": 0, "state": {"running": {"startedAt": "x"}}}
            ],
        },
    }


@pytest.fixture
def sh() -> ExecServer:
    return ExecServer("incident", clock=lambda: NOW, seed=1)


def run(server: ExecServer, p: dict, *argv: str, tty: bool = False) -> tuple[int, str, str]:
    result, _ = server.run(p, p["spec"]["containers"][0]["name"], list(argv), tty=tty)
    return result.code, result.out, result.err


def fixture_fs(server: ExecServer) -> tuple[dict, SimFS]:
    """A pod whose tree is exactly what the test builds."""
    p = pod("lab", "generic")
    fs = server.filesystems.get(p)
    M = 1024 * 1024
    fs.add_file("/lab/exact100M", size=100 * M, mtime=NOW - 1)
    fs.add_file("/lab/over100M", size=100 * M + 1, mtime=NOW - 1)
    fs.add_file("/lab/empty", size=0, mtime=NOW - 1)
    fs.add_file("/lab/one-byte", size=1, mtime=NOW - 1)
    fs.add_file("/lab/age7.log", size=10, mtime=NOW - 7 * DAY - 60)
    fs.add_file("/lab/age8.log", size=10, mtime=NOW - 8 * DAY - 60)
    fs.add_file("/lab/age6.txt", size=10, mtime=NOW - 6 * DAY - 60)
    fs.add_file("/lab/sub/deep/old.log", size=10, mtime=NOW - 40 * DAY)
    fs.add_file("/lab/mixed/old.log", size=10, mtime=NOW - 40 * DAY)
    fs.add_file("/lab/mixed/new.log", size=10, mtime=NOW - 60)
    fs.mkdir("/lab/mixed").mtime = NOW - 40 * DAY  # an old directory with a new file in it
    return p, fs


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_human_sizes_match_coreutils() -> None:
    K, M, G = 1024, 1024**2, 1024**3
    assert [
        human(x)
        for x in (
            0,
            1023,
            K,
            10 * K - 1,
            10 * K,
            int(1.05 * G),
            int(9.99 * G),
            80 * G,
            1023 * M + 1,
        )
    ] == ["0", "1023", "1.0K", "10K", "10K", "1.1G", "10G", "80G", "1.0G"]


def test_find_sizes_ages_and_operators(sh: ExecServer) -> None:
    p, _ = fixture_fs(sh)
    assert run(sh, p, "find", "/lab", "-size", "+100M") == (0, "/lab/over100M\n", "")
    assert lines(run(sh, p, "find", "/lab", "-type", "f", "-size", "-1k")[1]) == ["/lab/empty"]
    assert sorted(
        lines(run(sh, p, "find", "/lab", "-maxdepth", "1", "-name", "*.log", "-mtime", "+7")[1])
    ) == ["/lab/age8.log"]
    assert lines(run(sh, p, "find", "/lab", "-maxdepth", "1", "-mtime", "7")[1]) == [
        "/lab/age7.log"
    ]
    assert sorted(
        lines(run(sh, p, "find", "/lab", "-maxdepth", "1", "-type", "f", "-mtime", "-7")[1])
    ) == ["/lab/age6.txt", "/lab/empty", "/lab/exact100M", "/lab/one-byte", "/lab/over100M"]
    assert sorted(
        lines(
            run(
                sh,
                p,
                "find",
                "/lab",
                "-maxdepth",
                "1",
                "(",
                "-name",
                "*.txt",
                "-o",
                "-name",
                "empty",
                ")",
            )[1]
        )
    ) == ["/lab/age6.txt", "/lab/empty"]
    assert "/lab/one-byte" not in run(sh, p, "find", "/lab", "!", "-name", "one-*")[1]
    assert lines(run(sh, p, "find", "/lab/", "-type", "d", "-name", "deep")[1]) == ["/lab/sub/deep"]
    assert run(sh, p, "find", "/nope") == (1, "", "find: '/nope': No such file or directory\n")
    code, _, err = run(sh, p, "find", "/lab", "-bogus")
    assert code == 1 and "unknown predicate `-bogus'" in err


def test_find_delete_is_depth_first_and_reports_busy_directories(sh: ExecServer) -> None:
    p, fs = fixture_fs(sh)
    code, out, err = run(sh, p, "find", "/lab/sub", "/lab/mixed", "-mtime", "+30", "-delete")
    # /lab/sub/deep had only old files: emptied and removed.  /lab/mixed looked old but
    # still holds a new file: GNU find says so and exits 1.
    assert code == 1 and out == ""
    assert err == "find: cannot delete '/lab/mixed': Directory not empty\n"
    assert fs.lookup("/lab/sub/deep") is None and fs.lookup("/lab/mixed/new.log") is not None
    assert fs.lookup("/lab/mixed/old.log") is None


def test_ls_du_df_formats(sh: ExecServer) -> None:
    p, fs = fixture_fs(sh)
    fs.add_file("/lab/ancient", size=5, mtime=NOW - 400 * DAY)
    code, out, _ = run(sh, p, "ls", "-la", "/lab")
    rows = lines(out)
    assert code == 0 and rows[0].startswith("total ")
    assert rows[1].endswith(" .") and rows[2].endswith(" ..") and rows[1].startswith("drwxr-xr-x")
    ancient = next(r for r in rows if r.endswith(" ancient"))
    assert "  2025 ancient" in ancient  # older than six months: the year, not the time
    assert next(r for r in rows if r.endswith(" over100M")).split()[4] == str(100 * 2**20 + 1)
    assert "101M" in run(sh, p, "ls", "-lh", "/lab/over100M")[1]
    assert run(sh, p, "ls", "/missing") == (
        2,
        "",
        "ls: cannot access '/missing': No such file or directory\n",
    )
    assert run(sh, p, "du", "-sh", "/lab/sub")[1] == "12K\t/lab/sub\n"
    df = lines(run(sh, p, "df", "-h", "/lab")[1])
    assert df[0] == "Filesystem      Size  Used Avail Use% Mounted on"
    assert df[1].split()[0] == "overlay" and df[1].endswith("% /")
    assert lines(run(sh, p, "df", "/lab")[1])[0].split() == [
        "Filesystem",
        "1K-blocks",
        "Used",
        "Available",
        "Use%",
        "Mounted",
        "on",
    ]
    code, _, err = run(sh, p, "cat", "/lab/over100M")
    assert code == 1 and "not simulated" in err


def test_filesystem_state_is_per_pod_and_persists(sh: ExecServer) -> None:
    a, b = pod("postgres-0", "postgres", "uid-a"), pod("postgres-0", "postgres", "uid-b")
    before = run(sh, a, "df", "/var/lib/postgresql/data")[1]
    assert run(sh, a, "find", "/var/lib/postgresql/data/log", "-mtime", "+7", "-delete")[0] == 0
    assert run(sh, a, "df", "/var/lib/postgresql/data")[1] != before
    # The same name with a new uid (a replaced pod) starts from a fresh volume image.
    assert run(sh, b, "df", "/var/lib/postgresql/data")[1] == before
    healthy = ExecServer("healthy", clock=lambda: NOW, seed=1)
    pct = run(healthy, a, "df", "-h", "/var/lib/postgresql/data")[1].split()[-2]
    assert pct in ("40%", "41%")


def test_shell_quoting_globs_pipes_and_redirections(sh: ExecServer) -> None:
    p = pod("backup-pod", "backup")
    code, out, _ = run(sh, p, "sh", "-c", "ls /backups/*.sql.gz | wc -l")
    assert code == 0 and 33 <= int(out) <= 37
    assert run(sh, p, "sh", "-c", "echo 'a  b' \"c $d\" e\\ f") == (0, "a  b c $d e f\n", "")
    assert run(sh, p, "sh", "-c", "ls /nope 2>/dev/null; echo $?x") == (0, "$?x\n", "")
    assert run(sh, p, "sh", "-c", "cat /nope 2>&1 | grep -c 'No such'") == (0, "1\n", "")
    assert run(sh, p, "sh", "-c", "echo saved > /tmp/x; cat /tmp/x") == (0, "saved\n", "")
    assert run(sh, p, "sh", "-c", "echo 'unterminated")[0] == 2
    assert run(sh, p, "bash", "-c", "du -sh /backups | sort -h | head -n 1")[1].endswith(
        "\t/backups\n"
    )
    assert run(sh, p, "sh", "-c", "nosuch")[2] == "sh: 1: nosuch: not found\n"


def test_redis_cli_formats_like_redis_cli(sh: ExecServer) -> None:
    p = pod("redis-0", "redis")
    assert run(sh, p, "redis-cli", "PING") == (0, "PONG\n", "")
    assert run(sh, p, "redis-cli", "CONFIG", "GET", "maxmemory-policy", tty=True)[1] == (
        '1) "maxmemory-policy"\n2) "noeviction"\n'
    )
    assert run(sh, p, "redis-cli", "DBSIZE", tty=True)[1].startswith("(integer) ")
    code, out, _ = run(sh, p, "redis-cli", "CONFIG", "SET", "maxmemory-policy", "bogus")
    assert code == 1 and out.startswith("ERR CONFIG SET failed")
    assert run(sh, p, "redis-cli", "FLUSHDB")[1] == "OK\n"
    assert run(sh, p, "redis-cli", "DBSIZE")[1] == "0\n"
    assert run(sh, pod("rails-x", "rails"), "redis-cli", "PING")[0] == 127


def test_protocol_choice_and_exit_status() -> None:
    assert choose_protocol("v4.channel.k8s.io, v5.channel.k8s.io") == "v5.channel.k8s.io"
    assert choose_protocol("channel.k8s.io") == "channel.k8s.io"
    assert choose_protocol("") == ""
    assert choose_protocol("v9.channel.k8s.io") is None
    assert exit_status(0, "v5.channel.k8s.io") == b'{"metadata": {}, "status": "Success"}'
    assert b'"message": "7"' in exit_status(7, "v4.channel.k8s.io")
    assert exit_status(0, "channel.k8s.io") is None


def test_timeline_is_invertible_and_tapers() -> None:
    boot = NOW
    tl = Timeline(2.0, boot - 26 * 3600, boot, 2.0)
    for t in (boot - 25 * 3600, boot - 5 * 3600, boot - 3600, boot + 10):
        assert tl.time(tl.count(t)) == pytest.approx(t, abs=1e-3)
    full = tl.count(boot) - tl.count(boot - 2 * 3600)
    older = tl.count(boot - 2 * 3600) - tl.count(boot - 4 * 3600)
    assert full == pytest.approx(2 * 3600 * 2.0) and older == pytest.approx(full / 4)


def test_tail_is_the_end_of_the_full_range() -> None:
    book = LogBook("incident", Pace.fast(), clock=lambda: NOW, seed=3)
    p = pod("rails-1", "rails")
    inst = book.instance(p, "rails", Run(NOW - 3 * 3600, None, 0, ""))
    a, b = NOW - 600, NOW
    everything = list(inst.lines(a, b))
    assert len(everything) > 1000
    for n in (1, 7, 250):
        assert inst.tail(a, b, n) == everything[-n:]
    # Consecutive half-open windows (what follow does) give the same lines as one read.
    cuts = [a, a + 0.123, a + 77.7, a + 300, b]
    pieces = list(inst.lines(cuts[0], cuts[1]))
    for lo, hi in itertools.pairwise(cuts[1:]):
        pieces += list(inst.lines(lo, hi, strict=True))
    assert pieces == everything
    times = [t for t, _ in everything]
    assert times == sorted(times)


def test_an_oom_killed_run_ends_on_its_memory_error_however_busy() -> None:
    """The runbook's daily check (`kubectl logs -l app=fastapi`, last 10 lines) must
    find the memory error of an OOM-killed run, even when traffic was heavy just before
    the kill (a CI run once saw a 12-line traceback push it out of the tail)."""
    book = LogBook("incident", Pace.fast().with_(log_lines_per_s=2000.0), clock=lambda: NOW)
    for n in range(20):
        p = pod(f"fastapi-{n}", "fastapi")
        inst = book.instance(p, "fastapi", Run(NOW - 80, NOW - 12, 137, "OOMKilled"))
        assert inst.kind == "oom"
        everything = list(inst.lines(NOW - 90, NOW))
        assert len(everything) > 1000  # busy right up to the end
        last = [text for _, text in inst.tail(NOW - 90, NOW, 10)]
        assert last[-1].startswith("ERROR:    memory usage"), last
        assert sum("memory usage" in x and "error" in x.lower() for x in last) >= 1


def test_kube_timestamps_are_rfc3339nano() -> None:
    assert kube_ts(0.5) == "1970-01-01T00:00:00.5Z"
    assert kube_ts(1.0) == "1970-01-01T00:00:01Z"
    assert kube_ts(1_795_000_042.01) == "2026-11-18T11:07:22.01Z"
    assert kube_ts(1_795_000_042.9999999) == "2026-11-18T11:07:23Z"
    assert kube_ts(time.time()).endswith("Z")


def test_empty_dir_volumes_are_views_of_the_node_disk(sh: ExecServer) -> None:
    p = pod("rails-1", "rails")
    p["spec"]["volumes"] = [{"name": "logs", "emptyDir": {}}]
    p["spec"]["containers"][0]["volumeMounts"] = [{"name": "logs", "mountPath": "/app/logs"}]

    def usage() -> dict[str, str]:
        rows = lines(run(sh, p, "df")[1])[1:]
        return {r.split()[-1]: r.split()[2] for r in rows}

    before = usage()
    assert before["/app/logs"] == before["/"]
    assert run(sh, p, "find", "/app/logs", "-name", "*.log", "-mtime", "+7", "-delete")[0] == 0
    after = usage()
    assert after["/app/logs"] == after["/"] and int(after["/"]) < int(before["/"])
