"""The files each kind of Excel Unified pod holds, for the runbook's disk chores.

Seeded by pod uid, so a pod's tree is the same every time it is built.  The sizes are
chosen so that the runbook commands find something: rails/fastapi logs older than 7 days,
uploads older than 30 days and larger than 100M, postgres' data volume at 90 % in the
`incident` scenario (old server logs are most of what can be freed), and a month of
nightly dumps in `backup-pod:/backups`.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import time

from cockpit.sim.filesystem import SimFS
from cockpit.sim.s3 import demo_dump
from cockpit.sim.traffic import LOG_FORMAT

DAY = 86400
NODE_DISK = "node-root"
K, M, G = 1024, 1024**2, 1024**3


def _rng(pod: dict, seed: int) -> random.Random:
    uid = pod.get("metadata", {}).get("uid") or pod.get("metadata", {}).get("name", "")
    digest = hashlib.blake2b(f"{seed}|fs|{uid}".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def app_of(pod: dict) -> str:
    meta = pod.get("metadata", {})
    app = str((meta.get("labels") or {}).get("app") or "")
    if app:
        # CronJob pods are labelled app=postgres-backup; they and backup-pod are "backup".
        return "backup" if "backup" in app else app
    name = str(meta.get("name", ""))
    for known in ("postgres", "redis", "backup", "rails", "fastapi", "sidekiq", "nginx"):
        if known in name:
            return known
    return "generic"


def _day(now: float, days_ago: int, hour: int = 0, minute: int = 0) -> float:
    """UTC midnight `days_ago` days before `now`, plus a time of day."""
    midnight = now - now % DAY
    return midnight - days_ago * DAY + hour * 3600 + minute * 60


def _stamp(t: float, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(t))


def _base(pod: dict, rng: random.Random, now: float, cwd: str, owner: str) -> SimFS:
    name = str(pod.get("metadata", {}).get("name", "pod"))
    fs = SimFS(now=now, hostname=name, cwd=cwd, owner=owner)
    boot = now - 3 * DAY
    root = fs.add_mount("/", "overlay", 80 * G, 0, disk=NODE_DISK)
    fs.add_mount("/dev", "tmpfs", 64 * M, 0)
    fs.add_mount("/dev/shm", "shm", 64 * M, 0)
    sa = fs.add_mount("/run/secrets/kubernetes.io/serviceaccount", "tmpfs", 7782 * M, 12 * K)
    for d in ("/bin", "/usr/bin", "/usr/local/bin", "/usr/lib", "/var/log", "/tmp", "/proc"):
        fs.mkdir(d, mtime=boot - 40 * DAY)
    fs.add_file("/etc/hostname", content=name + "\n", mtime=boot)
    fs.add_file(
        "/etc/os-release",
        mtime=boot - 60 * DAY,
        content=(
            'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\n'
            'VERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n'
        ),
    )
    fs.add_file(
        "/etc/resolv.conf",
        mtime=boot,
        content=(
            "search excel-unified.svc.cluster.local svc.cluster.local cluster.local\n"
            "nameserver 10.96.0.10\noptions ndots:5\n"
        ),
    )
    for f in ("ca.crt", "namespace", "token"):
        fs.add_file(f"/run/secrets/kubernetes.io/serviceaccount/{f}", size=1 * K, mtime=boot)
    fs.add_file(
        "/run/secrets/kubernetes.io/serviceaccount/namespace",
        mtime=boot,
        content=str(pod.get("metadata", {}).get("namespace", "default")),
    )
    fs.settle_mount(sa)
    # The node's root disk is shared by every container on it: most of it is not ours.
    root.base_used = 21 * G + rng.randrange(4 * G)
    # emptyDir volumes live on that same node disk, and df lists each of them.
    empty_dirs = {
        v.get("name")
        for v in pod.get("spec", {}).get("volumes") or []
        if "emptyDir" in v and (v["emptyDir"] or {}).get("medium") != "Memory"
    }
    for c in pod.get("spec", {}).get("containers", [])[:1]:
        for vm in c.get("volumeMounts") or []:
            if vm.get("name") in empty_dirs and vm.get("mountPath"):
                fs.add_mount(vm["mountPath"], "/dev/nvme0n1p1", 80 * G, 0, disk=NODE_DISK)
    return fs


def _rails_like(fs: SimFS, rng: random.Random, now: float, app: str, scenario: str) -> None:
    owner = "app"
    fs.mkdir("/app", mtime=now - 9 * DAY, owner=owner)
    logs = fs.mkdir("/app/logs", mtime=now - 20 * DAY, owner=owner)
    logs.owner = owner
    main = {"rails": "production", "sidekiq": "sidekiq", "fastapi": "app"}.get(app, app)
    big = 1.6 if scenario == "incident" else 1.0
    fs.add_file(f"/app/logs/{main}.log", size=int(rng.uniform(180, 420) * M * big), mtime=now - 2)
    # Daily rotated logs; everything past a week is what the runbook deletes.
    for d in range(1, 16):
        size = int(rng.uniform(40, 260) * M * big)
        fs.add_file(
            f"/app/logs/{main}-{_stamp(_day(now, d), '%Y%m%d')}.log",
            size=size,
            mtime=_day(now, d, 23, 59),
        )
    if app == "rails":
        fs.add_file("/app/logs/puma.log", size=int(rng.uniform(2, 9) * M), mtime=now - 30)
        fs.add_file(
            "/app/logs/newrelic_agent.log", size=int(rng.uniform(20, 60) * M), mtime=now - 12 * DAY
        )
    if app == "fastapi":
        fs.add_file("/app/logs/access.log", size=int(rng.uniform(90, 300) * M), mtime=now - 1)
        fs.add_file("/app/models/classifier-v3.onnx", size=437 * M + 12345, mtime=now - 9 * DAY)
        fs.add_file(
            "/app/requirements.txt",
            mtime=now - 9 * DAY,
            content=(
                "fastapi==0.115.6\nuvicorn[standard]==0.34.0\nopenpyxl==3.1.5\npandas==2.2.3\n"
                "sqlalchemy==2.0.36\npsycopg2-binary==2.9.10\nredis==5.2.1\nopenai==1.58.1\n"
            ),
        )
    else:
        fs.add_file(
            "/app/Gemfile",
            mtime=now - 9 * DAY,
            content=(
                'source "https://rubygems.org"\nruby "3.2.3"\ngem "rails", "~> 7.1.3"\n'
                'gem "pg", "~> 1.5"\ngem "puma", "~> 6.4"\ngem "sidekiq", "~> 7.2"\n'
                'gem "redis", "~> 5.1"\ngem "carrierwave", "~> 3.0"\n'
            ),
        )
        fs.add_file(
            "/app/config/puma.rb",
            mtime=now - 9 * DAY,
            content=(
                'workers ENV.fetch("WEB_CONCURRENCY") { 4 }\n'
                'threads_count = ENV.fetch("RAILS_MAX_THREADS") { 5 }\n'
                "threads threads_count, threads_count\n"
                'port ENV.fetch("PORT") { 3000 }\n'
                'environment ENV.fetch("RAILS_ENV") { "production" }\n'
            ),
        )
    fs.add_file("/app/REVISION", mtime=now - 9 * DAY, content=f"{rng.getrandbits(160):040x}\n")
    # Uploads, CarrierWave style: one directory per record, so a directory's mtime is
    # its file's and `find /app/uploads -mtime +30 -delete` empties and removes it.
    # The parent directories come with the image (built 3 days ago), so the runbook's
    # `find /app/uploads -mtime +30 -delete` leaves them alone instead of failing on them.
    for d in ("/app/uploads", "/app/uploads/excel_file", "/app/uploads/excel_file/file"):
        fs.mkdir(d, mtime=now - 3 * DAY, owner=owner)
    record = 40000 + rng.randrange(1000)
    for age in range(60, -1, -1):
        for _ in range(rng.randint(1, 3)):
            record += rng.randint(1, 40)
            t = now - age * DAY - rng.uniform(0, DAY)
            size = int(rng.lognormvariate(14.5, 1.3))
            if rng.random() < 0.06:
                size = int(rng.uniform(110, 900) * M)  # the occasional huge workbook
            name = rng.choice(["report", "sales", "inventory", "payroll", "budget", "export"])
            fs.add_file(
                f"/app/uploads/excel_file/file/{record}/{name}_{record}.xlsx",
                size=size,
                mtime=t,
                owner=owner,
            )
    # Guarantee one old huge file and one recent huge file whatever the dice said.
    fs.add_file(
        "/app/uploads/excel_file/file/39999/annual_ledger_2025.xlsx",
        size=734 * M,
        mtime=now - 41 * DAY,
        owner=owner,
    )
    fs.add_file(
        f"/app/uploads/excel_file/file/{record + 7}/q4_forecast.xlsx",
        size=152 * M,
        mtime=now - 2 * 3600,
        owner=owner,
    )
    fs.mkdir("/app/tmp/cache", mtime=now - DAY, owner=owner)
    fs.add_file("/app/tmp/pids/server.pid", content="1\n", mtime=now - 3 * DAY, owner=owner)
    for i in range(6):
        fs.add_file(
            f"/app/tmp/cache/bootsnap/compile-cache-iseq/{i:02x}/{rng.getrandbits(64):016x}",
            size=rng.randint(2 * K, 90 * K),
            mtime=now - 9 * DAY,
            owner=owner,
        )
    for _ in range(rng.randint(2, 5)):
        fs.add_file(
            f"/app/tmp/uploads/{rng.getrandbits(64):016x}.part",
            size=int(rng.uniform(1, 40) * M),
            mtime=now - rng.uniform(2, 20) * DAY,
            owner=owner,
        )


def _env(pod: dict, name: str) -> str | None:
    for c in pod.get("spec", {}).get("containers", []):
        for e in c.get("env") or []:
            if e.get("name") == name and "value" in e:
                return str(e["value"])
    return None


def redis_settings(pod: dict) -> tuple[int, str]:
    """(maxmemory bytes, maxmemory-policy) from the redis container's command line."""
    maxmemory, policy = 768 * M, "noeviction"
    for c in pod.get("spec", {}).get("containers", []):
        args = [*(c.get("command") or []), *(c.get("args") or [])]
        for flag, value in itertools.pairwise(args):
            if flag == "--maxmemory":
                v = value.lower()
                unit = {"kb": K, "mb": M, "gb": G, "k": 1000, "m": 1000**2, "g": 1000**3}
                suffix = next((u for u in ("kb", "mb", "gb", "k", "m", "g") if v.endswith(u)), "")
                digits = v[: len(v) - len(suffix)]
                if digits.isdigit():
                    maxmemory = int(digits) * unit.get(suffix, 1)
            elif flag == "--maxmemory-policy":
                policy = value
    return maxmemory, policy


def _postgres(fs: SimFS, pod: dict, rng: random.Random, now: float, scenario: str) -> None:
    mount = "/var/lib/postgresql/data"
    vol = fs.add_mount(mount, "/dev/nvme1n1", 50 * G, 0)  # the StatefulSet's 50Gi claim
    fs.mkdir(mount, mtime=now - 200 * DAY, owner="postgres")
    fs.mkdir(f"{mount}/lost+found", mtime=now - 200 * DAY, owner="root").mode = 0o700
    data = _env(pod, "PGDATA") or mount
    fs.add_file(f"{data}/PG_VERSION", content="15\n", mtime=now - 200 * DAY)
    fs.add_file(
        f"{data}/postgresql.auto.conf",
        mtime=now - 30 * DAY,
        content=(
            "# Do not edit this file manually!\n"
            "# It will be overwritten by the ALTER SYSTEM command.\n"
            "max_connections = '200'\nshared_buffers = '256MB'\neffective_cache_size = '1GB'\n"
            "work_mem = '4MB'\nmaintenance_work_mem = '64MB'\nlogging_collector = 'on'\n"
            f"log_directory = '{mount}/log'\n"
        ),
    )
    fs.add_file(f"{data}/pg_hba.conf", size=4821, mtime=now - 200 * DAY)
    fs.add_file(
        f"{data}/postmaster.pid",
        mtime=now - 3 * DAY,
        content=(f"1\n{data}\n{int(now - 3 * DAY)}\n5432\n/var/run/postgresql\n*\n"),
    )
    # Relation segments (1 GB each) of the big tables.
    for rel in (16385, 16402, 16417, 16433):
        segments = rng.randint(2, 5)
        for s in range(segments):
            suffix = "" if s == 0 else f".{s}"
            size = G if s < segments - 1 else int(rng.uniform(0.2, 1.0) * G)
            fs.add_file(
                f"{data}/base/16384/{rel}{suffix}", size=size, mtime=now - rng.uniform(0, 600)
            )
    seg = rng.randrange(0x100)
    for i in range(48):
        fs.add_file(
            f"{data}/pg_wal/00000001000000A3{seg + i:08X}", size=16 * M, mtime=now - (48 - i) * 1800
        )
    # Server logs (log_directory is on the volume's root): a month and a half of them in
    # the incident, where nobody pruned them and verbose logging was left on.
    incident = scenario == "incident"
    days = 45 if incident else 7
    for d in range(days, -1, -1):
        size = int(rng.uniform(200, 330) * M) if incident else int(rng.uniform(5, 20) * M)
        mtime = now - 60 if d == 0 else _day(now, d, 23, 59)
        fs.add_file(
            f"{mount}/log/postgresql-{_stamp(_day(now, d), '%Y-%m-%d')}_000000.log",
            size=size,
            mtime=mtime,
        )
    vol.base_used = int((0.90 if incident else 0.40) * vol.size)
    fs.settle_mount(vol)


def _redis(fs: SimFS, pod: dict, rng: random.Random, now: float, scenario: str) -> None:
    vol = fs.add_mount("/data", "/dev/nvme2n1", 10 * G, 0)  # the StatefulSet's 10Gi claim
    maxmemory, _ = redis_settings(pod)
    rdb = maxmemory * (0.8 if scenario == "incident" else 0.4)
    fs.add_file("/data/dump.rdb", size=int(rdb * rng.uniform(0.95, 1.05)), mtime=now - 240)
    fs.add_file(
        "/data/appendonlydir/appendonly.aof.1.base.rdb",
        size=int(rdb * 0.9),
        mtime=now - 2 * DAY,
    )
    fs.add_file(
        "/data/appendonlydir/appendonly.aof.1.incr.aof",
        size=int(rng.uniform(50, 300) * M),
        mtime=now - 1,
    )
    fs.add_file(
        "/data/appendonlydir/appendonly.aof.manifest",
        mtime=now - 2 * DAY,
        content=(
            "file appendonly.aof.1.base.rdb seq 1 type b\n"
            "file appendonly.aof.1.incr.aof seq 1 type i\n"
        ),
    )
    fs.settle_mount(vol)


def _backup(fs: SimFS, rng: random.Random, now: float, scenario: str) -> None:
    # A month of dumps would fill the node disk an emptyDir sits on: give them a volume.
    fs.mounts = [m for m in fs.mounts if m.path != "/backups"]
    vol = fs.add_mount("/backups", "/dev/nvme3n1", 200 * G, 0)
    fs.mkdir("/backups", mtime=now - 40 * DAY)
    size = 1.05 * G
    newest = 0 if now % DAY >= 2 * 3600 + 300 else 1  # tonight's dump ran at 02:00
    if scenario == "incident":
        newest += 1  # last night's backup job failed: no dump for it
    for d in range(35 + newest, newest - 1, -1):
        size *= rng.uniform(1.0, 1.006)
        t = _day(now, d, 2, 0)
        # The newest three are real (small) dumps: they verify and restore with psql.
        content = demo_dump(d) if d < newest + 3 else None
        fs.add_file(
            f"/backups/backup_{_stamp(t, '%Y%m%d')}_020000.sql.gz",
            size=int(size),
            mtime=t + rng.uniform(200, 420),
            content=content,
        )
    fs.add_file(
        "/backups/README",
        mtime=now - 40 * DAY,
        content=(
            "Nightly pg_dump of excel_unified (CronJob postgres-backup, 0 2 * * *).\n"
            "Keep 30 days here; older dumps live in s3://excel-unified-backups/.\n"
        ),
    )
    fs.settle_mount(vol)


def _nginx(fs: SimFS, rng: random.Random, now: float) -> None:
    fs.add_file("/var/log/nginx/access.log", size=int(rng.uniform(200, 600) * M), mtime=now - 1)
    fs.add_file("/var/log/nginx/error.log", size=int(rng.uniform(1, 20) * M), mtime=now - 30)
    fs.add_file(
        "/etc/nginx/nginx.conf",
        mtime=now - 30 * DAY,
        content=(
            "user nginx;\nworker_processes auto;\nevents { worker_connections 1024; }\n"
            "http {\n"
            f"  {LOG_FORMAT}\n"
            "  access_log /var/log/nginx/access.log upstreaminfo;\n"
            "  error_log /var/log/nginx/error.log notice;\n"
            "  include /etc/nginx/conf.d/*.conf;\n}\n"
        ),
    )
    fs.add_file(
        "/etc/nginx/conf.d/default.conf",
        mtime=now - 30 * DAY,
        content=(
            "upstream rails { server rails-service:3000; }\n"
            "upstream fastapi { server fastapi-service:8000; }\n"
            "server {\n  listen 80;\n  server_name excel-unified.com;\n"
            "  location /api/ai/ { proxy_pass http://fastapi; }\n"
            "  location / { proxy_pass http://rails; }\n}\n"
        ),
    )


def build_fs(pod: dict, scenario: str, now: float, seed: int = 0) -> SimFS:
    """The filesystem of `pod` as it is at `now`."""
    rng = _rng(pod, seed)
    app = app_of(pod)
    if app in ("rails", "fastapi", "sidekiq"):
        fs = _base(pod, rng, now, cwd="/app", owner="app")
        _rails_like(fs, rng, now, app, scenario)
    elif app == "postgres":
        fs = _base(pod, rng, now, cwd="/", owner="postgres")
        _postgres(fs, pod, rng, now, scenario)
    elif app == "redis":
        fs = _base(pod, rng, now, cwd="/data", owner="redis")
        _redis(fs, pod, rng, now, scenario)
    elif app == "backup":
        fs = _base(pod, rng, now, cwd="/", owner="root")
        _backup(fs, rng, now, scenario)
    elif app == "nginx":
        fs = _base(pod, rng, now, cwd="/", owner="root")
        _nginx(fs, rng, now)
    else:
        fs = _base(pod, rng, now, cwd="/", owner="root")
    fs.state["app"] = app
    return fs
