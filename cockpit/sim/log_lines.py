"""What each Excel Unified container writes to stdout, one event at a time.

Every function here is pure: given the event's random bits and its time it returns the
event's lines (a Rails request is three lines, a Python traceback a dozen), so a line
can be regenerated at will instead of stored.  Formats follow the real programs: the
Ruby Logger format Rails uses, uvicorn's access log, Sidekiq 7, ingress-nginx's upstreaminfo log,
PostgreSQL's `log_line_prefix = '%m [%p] '` and Redis' `pid:role date * message`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cockpit.sim import traffic


class Bits:
    """Draws small random choices from one big hash (cheaper than seeding a Random)."""

    __slots__ = ("h",)

    def __init__(self, h: int) -> None:
        self.h = h

    def n(self, k: int) -> int:
        v = self.h % k
        self.h //= k
        return v

    def pick(self, seq: tuple) -> object:
        return seq[self.n(len(seq))]

    def unit(self) -> float:
        return self.n(1 << 20) / float(1 << 20)


@dataclass(frozen=True, slots=True)
class Gen:
    """What a generator needs to know about the container it writes for."""

    app: str
    pod: str
    incident: bool
    error_ratio: float
    memory_limit: int = 2 * 1024**3
    traffic: Any = field(default=None, compare=False)  # nginx: a traffic.Context


@lru_cache(maxsize=8192)
def _sec(sec: int, fmt: str) -> str:
    return time.strftime(fmt, time.gmtime(sec))


def kube_ts(t: float) -> str:
    """RFC3339Nano as the kubelet writes it (trailing zeros of the fraction dropped)."""
    # Epoch floats carry about a microsecond of precision: round there, print nanoseconds.
    us = round(t * 1_000_000)
    sec, frac = divmod(us, 1_000_000)
    ns = f"{frac * 1000:09d}".rstrip("0")
    return _sec(sec, "%Y-%m-%dT%H:%M:%S") + (f".{ns}" if ns else "") + "Z"


def _rails_ts(t: float) -> str:
    sec = int(t)
    return f"{_sec(sec, '%Y-%m-%dT%H:%M:%S')}.{int((t - sec) * 1e6):06d}"


def _ms(t: float) -> int:
    return int((t - int(t)) * 1000)


def _pg_ts(t: float) -> str:
    return f"{_sec(int(t), '%Y-%m-%d %H:%M:%S')}.{_ms(t):03d} UTC"


def _redis_ts(t: float) -> str:
    return f"{_sec(int(t), '%d %b %Y %H:%M:%S')}.{_ms(t):03d}"


def _sidekiq_ts(t: float) -> str:
    return f"{_sec(int(t), '%Y-%m-%dT%H:%M:%S')}.{_ms(t):03d}Z"


def _hex(b: Bits, digits: int) -> str:
    return f"{b.n(16**digits):0{digits}x}"


def _uuid(b: Bits) -> str:
    h = _hex(b, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _ip(b: Bits) -> str:
    return f"10.0.{1 + b.n(3)}.{2 + b.n(240)}"


# -- Rails ---------------------------------------------------------------------------

_RAILS_ROUTES = (
    ("GET", "/api/v1/files", "Api::V1::FilesController#index", '{"page"=>"2"}'),
    ("GET", "/api/v1/files/{id}", "Api::V1::FilesController#show", '{"id"=>"{id}"}'),
    (
        "POST",
        "/api/v1/files",
        "Api::V1::FilesController#create",
        '{"file"=>#<ActionDispatch::Http::UploadedFile>}',
    ),
    ("GET", "/api/v1/files/{id}/sheets", "Api::V1::SheetsController#index", '{"file_id"=>"{id}"}'),
    (
        "POST",
        "/api/v1/files/{id}/analyze",
        "Api::V1::AnalysesController#create",
        '{"file_id"=>"{id}"}',
    ),
    ("GET", "/api/v1/users/me", "Api::V1::UsersController#me", "{}"),
    ("GET", "/health", "HealthController#show", "{}"),
    ("GET", "/dashboard", "DashboardController#index", "{}"),
)
_RAILS_PIDS = (12, 13, 14, 15)
_PG_REFUSED = (
    "could not connect to server: Connection refused",
    '\tIs the server running on host "postgres-service" (10.100.150.7) and accepting',
    "\tTCP/IP connections on port 5432?",
)


def _rails_prefix(level: str, t: float, pid: int) -> str:
    return f"{level[0]}, [{_rails_ts(t)} #{pid}] {level:>5} -- : "


def rails(b: Bits, t: float, g: Gen) -> list[str]:
    pid = _RAILS_PIDS[b.n(4)]
    rid = _uuid(b)
    method, path, action, params = b.pick(_RAILS_ROUTES)  # type: ignore[misc]
    rec = str(10000 + b.n(40000))
    path, params = path.replace("{id}", rec), params.replace("{id}", rec)
    ip = _ip(b)
    info = _rails_prefix("INFO", t, pid) + f"[{rid}] "
    at = _sec(int(t), "%Y-%m-%d %H:%M:%S") + " +0000"
    lines = [
        f'{info}Started {method} "{path}" for {ip} at {at}',
        f"{info}Processing by {action} as JSON",
    ]
    if params != "{}":
        lines.append(f"{info}  Parameters: {params}")
    if b.unit() < g.error_ratio:
        err = _rails_prefix("ERROR", t, pid) + f"[{rid}] "
        kind = b.n(4 if g.incident else 3)
        if kind == 3 or (g.incident and kind == 0):
            lines.append(f"{err}  ")
            lines.append(
                f"{err}Redis::CommandError (OOM command not allowed when used memory > "
                "'maxmemory'.):"
            )
            lines.append(f"{err}  ")
            lines.append(f"{err}app/services/sheet_cache.rb:41:in `write'")
        elif kind == 0:
            lines.append(f"{err}  ")
            lines.append(f"{err}ActiveRecord::ConnectionNotEstablished ({_PG_REFUSED[0]}")
            lines.extend(f"{err}{x}" for x in _PG_REFUSED[1:])
            lines.append(f"{err}):")
        elif kind == 1:
            lines.append(f"{err}  ")
            lines.append(
                f"{err}ActiveRecord::StatementInvalid (PG::QueryCanceled: ERROR:  "
                "canceling statement due to statement timeout"
            )
            lines.append(f"{err}):")
        else:
            lines.append(f"{err}  ")
            lines.append(
                f"{err}Faraday::TimeoutError (Net::ReadTimeout with #<TCPSocket:(closed)>):"
            )
            lines.append(f"{err}app/clients/fastapi_client.rb:27:in `analyze'")
        ms = 5000 + b.n(3000) if kind == 1 else 20 + b.n(400)
        lines.append(
            f"{info}Completed 500 Internal Server Error in {ms}ms "
            f"(ActiveRecord: {b.n(ms * 10) / 10:.1f}ms | Allocations: {1000 + b.n(9000)})"
        )
    else:
        ar = 1 + b.n(800) / 10
        views = b.n(300) / 10
        ms = int(ar + views + 2 + b.n(120))
        status = "201 Created" if method == "POST" else "200 OK"
        lines.append(
            f"{info}Completed {status} in {ms}ms (Views: {views:.1f}ms | "
            f"ActiveRecord: {ar:.1f}ms | Allocations: {2000 + b.n(30000)})"
        )
    return lines


def rails_boot(t: float, g: Gen) -> list[str]:
    return [
        "=> Booting Puma",
        "=> Rails 7.1.3 application starting in production ",
        "=> Run `bin/rails server --help` for more startup options",
        "[1] Puma starting in cluster mode...",
        '[1] * Puma version: 6.4.2 (ruby 3.2.3-p157) ("The Eagle of Durango")',
        "[1] *  Min threads: 5",
        "[1] *  Max threads: 5",
        "[1] *  Environment: production",
        "[1] *   Master PID: 1",
        "[1] *      Workers: 4",
        "[1] *     Restarts: (\u2714) hot (\u2716) phased",
        "[1] * Preloading application",
    ]


def rails_boot_done(t: float, g: Gen) -> list[str]:
    return [
        "[1] * Listening on http://0.0.0.0:3000",
        "[1] Use Ctrl-C to stop",
        *(f"[1] - Worker {i} (PID: {12 + i}) booted in 0.01s, phase: 0" for i in range(4)),
    ]


def rails_crash(t: float, g: Gen) -> list[str]:
    """The crash-looping pod: the database is unreachable while the app preloads.

    Short enough (9 lines) that the ERROR line is within the 10 lines `kubectl logs -l`
    shows per pod, so the runbook's `... --since=24h | grep -i error` finds it."""
    gem = "/usr/local/bundle/gems/activerecord-7.1.3/lib/active_record"
    return [
        _rails_prefix("ERROR", t, 1) + "ActiveRecord::ConnectionNotEstablished: " + _PG_REFUSED[0],
        *_PG_REFUSED[1:],
        "! Unable to load application: ActiveRecord::ConnectionNotEstablished: " + _PG_REFUSED[0],
        f"{gem}/connection_adapters/postgresql_adapter.rb:60:in `rescue in new_client'",
        f"{gem}/connection_adapters/abstract/connection_pool.rb:672:in `new_connection'",
        "/app/config/initializers/excel_schema_check.rb:4:in `<main>'",
        "bundler: failed to load command: puma (/usr/local/bundle/bin/puma)",
        _rails_prefix("FATAL", t, 1)
        + "ActiveRecord::ConnectionNotEstablished: "
        + _PG_REFUSED[0]
        + " - exiting",
    ]


# -- FastAPI / uvicorn -----------------------------------------------------------------

_FASTAPI_ROUTES = (
    ("POST", "/api/v1/analyze"),
    ("POST", "/api/v1/formulas/explain"),
    ("POST", "/api/v1/sheets/summarize"),
    ("GET", "/api/v1/jobs/{id}"),
    ("GET", "/health"),
    ("GET", "/metrics"),
)
_SITE = "/usr/local/lib/python3.11/site-packages"


def fastapi(b: Bits, t: float, g: Gen) -> list[str]:
    method, path = b.pick(_FASTAPI_ROUTES)  # type: ignore[misc]
    path = path.replace("{id}", _hex(b, 12))
    client = f"{_ip(b)}:{32768 + b.n(28000)}"
    if b.unit() < g.error_ratio:
        kind = b.n(3)
        if kind == 0:
            exc = [
                "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not "
                "connect to server: Connection refused"
            ]
            frame = (
                f'  File "{_SITE}/sqlalchemy/engine/base.py", line 3298, in raw_connection',
                "    return self.pool.connect()",
            )
        elif kind == 1:
            exc = [
                "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit "
                "reached for gpt-4o', 'type': 'requests', 'code': 'rate_limit_exceeded'}}"
            ]
            frame = (
                f'  File "{_SITE}/openai/_base_client.py", line 1059, in _request',
                "    raise self._make_status_error_from_response(err.response) from None",
            )
        else:
            exc = [
                "redis.exceptions.ResponseError: OOM command not allowed when used memory > "
                "'maxmemory'."
                if g.incident
                else "ValueError: Worksheet index out of range"
            ]
            frame = (
                '  File "/app/app/services/workbook.py", line 88, in load_sheet',
                "    sheet = self.book.worksheets[index]",
            )
        return [
            f'INFO:     {client} - "{method} {path} HTTP/1.1" 500 Internal Server Error',
            "ERROR:    Exception in ASGI application",
            "Traceback (most recent call last):",
            f'  File "{_SITE}/uvicorn/protocols/http/httptools_impl.py", line 409, in run_asgi',
            "    result = await app(  # type: ignore[func-returns-value]",
            f'  File "{_SITE}/fastapi/routing.py", line 301, in app',
            "    raw_response = await run_endpoint_function(",
            '  File "/app/app/api/v1/analyze.py", line 57, in analyze',
            "    result = await analyzer.run(workbook_id, options)",
            *frame,
            *exc,
        ]
    if b.n(5) == 0:
        ms = f"{0.2 + b.n(4000) / 1000:.2f}"
        return [
            f"{_sec(int(t), '%Y-%m-%d %H:%M:%S')},{_ms(t):03d} - app.services.analyzer - "
            f"INFO - analyzed workbook {10000 + b.n(40000)} ({1 + b.n(12)} sheets, "
            f"{b.n(90000)} cells) in {ms}s"
        ]
    status = "202 Accepted" if path.endswith("analyze") and b.n(3) == 0 else "200 OK"
    return [f'INFO:     {client} - "{method} {path} HTTP/1.1" {status}']


def fastapi_boot(t: float, g: Gen) -> list[str]:
    return [
        "INFO:     Started server process [1]",
        "INFO:     Waiting for application startup.",
        "INFO:     Application startup complete.",
        "INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)",
    ]


def fastapi_memory(share: float, g: Gen) -> list[str]:
    limit = g.memory_limit
    used = share * limit
    level = "WARNING:  " if share < 0.9 else "ERROR:    "
    return [
        f"{level}memory usage {used / 1024**3:.2f} GiB of {limit / 1024**3:.2f} GiB limit "
        f"({share:.0%}); analyzer cache holds {int(share * 600)} workbooks"
    ]


# -- Sidekiq -------------------------------------------------------------------------

_JOBS = (
    "ExcelImportJob",
    "AnalysisRequestJob",
    "ThumbnailJob",
    "ExportWorkbookJob",
    "CleanupUploadsJob",
    "UsageReportJob",
)


def sidekiq(b: Bits, t: float, g: Gen) -> list[str]:
    ts = _sidekiq_ts(t)
    tid = _hex(b, 4)
    job = b.pick(_JOBS)
    jid = _hex(b, 24)
    head = f"{ts} pid=1 tid={tid} class={job} jid={jid}"
    elapsed = f"{b.n(9000) / 1000:.3f}"
    if b.unit() < g.error_ratio:
        err = (
            "Redis::CommandError: OOM command not allowed when used memory > 'maxmemory'."
            if g.incident and b.n(2)
            else "ActiveRecord::ConnectionNotEstablished: could not connect to server: "
            "Connection refused"
        )
        return [
            f"{head} INFO: start",
            f"{head} elapsed={elapsed} INFO: fail",
            f'{ts} pid=1 tid={tid} WARN: {{"context":"Job raised exception","job":{{"retry":true,'
            f'"queue":"default","class":"{job}","jid":"{jid}"}}}}',
            f"{ts} pid=1 tid={tid} ERROR: {err}",
            f"{ts} pid=1 tid={tid} WARN: /app/app/jobs/{job[:-3].lower()}_job.rb:18:in `perform'",
        ]
    return [f"{head} INFO: start", f"{head} elapsed={elapsed} INFO: done"]


def sidekiq_boot(t: float, g: Gen) -> list[str]:
    ts = _sidekiq_ts(t)
    return [
        f"{ts} pid=1 tid=2ds9 INFO: Booted Rails 7.1.3 application in production environment",
        f"{ts} pid=1 tid=2ds9 INFO: Running in ruby 3.2.3 (2024-01-18 revision 52bb2ac0a6) "
        "[x86_64-linux]",
        f"{ts} pid=1 tid=2ds9 INFO: See LICENSE and the LGPL-3.0 for licensing details.",
        f"{ts} pid=1 tid=2ds9 INFO: Sidekiq 7.2.2 connecting to Redis with options "
        '{:size=>10, :pool_name=>"internal", :url=>"redis://redis-service:6379/0"}',
        f"{ts} pid=1 tid=2ds9 INFO: Starting processing, hit Ctrl-C to stop",
    ]


# -- nginx ---------------------------------------------------------------------------


def nginx(b: Bits, t: float, g: Gen) -> list[str]:
    """One request, in ingress-nginx's "upstreaminfo" access-log format (traffic.py)."""
    ctx = g.traffic if g.traffic is not None else traffic.Context()
    return traffic.access_lines(traffic.request(b, t, ctx), t)


def nginx_boot(t: float, g: Gen) -> list[str]:
    ts = _sec(int(t), "%Y/%m/%d %H:%M:%S")
    return [
        "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform "
        "configuration",
        "/docker-entrypoint.sh: Configuration complete; ready for start up",
        f'{ts} [notice] 1#1: using the "epoll" event method',
        f"{ts} [notice] 1#1: nginx/1.25.4",
        f"{ts} [notice] 1#1: start worker processes",
    ]


# -- PostgreSQL ----------------------------------------------------------------------


def postgres(b: Bits, t: float, g: Gen) -> list[str]:
    p = f"{_pg_ts(t)} [{100 + b.n(9000)}] "
    if b.unit() < g.error_ratio * 2:
        if g.incident and b.n(2):
            return [
                f"{p}FATAL:  remaining connection slots are reserved for non-replication "
                "superuser connections"
            ]
        rec = 10000 + b.n(40000)
        return [
            f'{p}ERROR:  duplicate key value violates unique constraint "excel_files_pkey"',
            f"{p}DETAIL:  Key (id)=({rec}) already exists.",
            f'{p}STATEMENT:  INSERT INTO "excel_files" ("id", "name", "created_at") '
            'VALUES ($1, $2, $3) RETURNING "id"',
        ]
    kind = b.n(6)
    if kind == 0:
        buffers = 100 + b.n(5000)
        return [
            f"{p}LOG:  checkpoint starting: time",
            f"{p}LOG:  checkpoint complete: wrote {buffers} buffers ({buffers / 163.84:.1f}%); "
            f"0 WAL file(s) added, 0 removed, {b.n(3)} recycled; write={b.n(270000) / 1000:.3f} "
            f"s, sync={b.n(900) / 1000:.3f} s, total={b.n(270000) / 1000 + 1:.3f} s",
        ]
    if kind == 1:
        return [
            f'{p}LOG:  automatic vacuum of table "excel_unified.public.'
            f'{b.pick(("excel_files", "sheets", "analyses", "users"))}": index scans: 1'
        ]
    if kind == 2:
        return [
            f"{p}LOG:  duration: {1000 + b.n(9000)}.{b.n(1000):03d} ms  statement: SELECT "
            '"sheets".* FROM "sheets" WHERE "sheets"."excel_file_id" = $1'
        ]
    if kind == 3:
        return [f"{p}LOG:  could not receive data from client: Connection reset by peer"]
    return [
        f"{p}LOG:  connection received: host={_ip(b)} port={32768 + b.n(28000)}",
        f"{p}LOG:  connection authorized: user=excel_user database=excel_unified "
        f"application_name={b.pick(('puma', 'sidekiq', 'fastapi'))}",
    ]


def postgres_boot(t: float, g: Gen) -> list[str]:
    p = f"{_pg_ts(t)} [1] "
    return [
        "",
        "PostgreSQL Database directory appears to contain a database; Skipping initialization",
        "",
        f"{p}LOG:  starting PostgreSQL 15.6 (Debian 15.6-1.pgdg120+2) on x86_64-pc-linux-gnu, "
        "compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit",
        f'{p}LOG:  listening on IPv4 address "0.0.0.0", port 5432',
        f'{p}LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
        f"{_pg_ts(t)} [28] LOG:  database system was shut down at {_pg_ts(t - 40)}",
        f"{p}LOG:  database system is ready to accept connections",
    ]


# -- Redis ---------------------------------------------------------------------------


def redis(b: Bits, t: float, g: Gen) -> list[str]:
    ts = _redis_ts(t)
    child = 1000 + b.n(60000)
    if g.incident and b.unit() < 0.2:
        return [
            f"1:M {ts} # WARNING: used_memory is {95 + b.n(4)}% of maxmemory and "
            "maxmemory-policy is noeviction: writes will be refused"
        ]
    return [
        f"1:M {ts} * {100 + b.n(10000)} changes in 60 seconds. Saving...",
        f"1:M {ts} * Background saving started by pid {child}",
        f"{child}:C {ts} * DB saved on disk",
        f"{child}:C {ts} * Fork CoW for RDB: current {b.n(40)} MB, peak {b.n(40) + 40} MB, "
        "average 12 MB",
        f"1:M {ts} * Background saving terminated with success",
    ]


def redis_boot(t: float, g: Gen) -> list[str]:
    ts = _redis_ts(t)
    return [
        f"1:C {ts} # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
        f"1:C {ts} # Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1, "
        "just started",
        f"1:M {ts} * monotonic clock: POSIX clock_gettime",
        f"1:M {ts} * Running mode=standalone, port=6379.",
        f"1:M {ts} * Server initialized",
        f"1:M {ts} * DB loaded from append only file: {1.2 + (t % 7) / 10:.3f} seconds",
        f"1:M {ts} * Ready to accept connections tcp",
    ]


# -- backup jobs ---------------------------------------------------------------------


def backup_start(t: float, g: Gen) -> list[str]:
    stamp = _sec(int(t), "%Y%m%d_%H%M%S")
    return [
        f"[{_sec(int(t), '%Y-%m-%dT%H:%M:%SZ')}] starting pg_dump of excel_unified "
        f"to /backup/backup_{stamp}.sql",
        'pg_dump: dumping contents of table "public.users"',
        'pg_dump: dumping contents of table "public.excel_files"',
        'pg_dump: dumping contents of table "public.sheets"',
    ]


def backup_end(t: float, g: Gen, ok: bool) -> list[str]:
    stamp = _sec(int(t), "%Y%m%d")
    if not ok:
        return [
            'pg_dump: error: Dumping the contents of table "analyses" failed: PQgetResult() '
            "failed.",
            "pg_dump: error: Error message from server: server closed the connection unexpectedly",
            "pg_dump: error: The command was: COPY public.analyses (id, excel_file_id, result, "
            "created_at) TO stdout;",
            f"[{_sec(int(t), '%Y-%m-%dT%H:%M:%SZ')}] backup FAILED (exit 1)",
        ]
    return [
        'pg_dump: dumping contents of table "public.analyses"',
        f"upload: /backup/backup_{stamp}_020000.sql to "
        f"s3://excel-unified-backups/backup_{stamp}_020000.sql",
        f"[{_sec(int(t), '%Y-%m-%dT%H:%M:%SZ')}] backup completed",
    ]


def generic(b: Bits, t: float, g: Gen) -> list[str]:
    return [f"{_sec(int(t), '%Y-%m-%dT%H:%M:%SZ')} INFO {g.pod}: heartbeat {b.n(100000)}"]


Event = Callable[[Bits, float, Gen], list[str]]
Script = Callable[[float, Gen], list[str]]

REGULAR: dict[str, Event] = {
    "rails": rails,
    "fastapi": fastapi,
    "sidekiq": sidekiq,
    "nginx": nginx,
    "postgres": postgres,
    "redis": redis,
}
BOOT: dict[str, Script] = {
    "rails": rails_boot,
    "fastapi": fastapi_boot,
    "sidekiq": sidekiq_boot,
    "nginx": nginx_boot,
    "postgres": postgres_boot,
    "redis": redis_boot,
}
# Share of the pace's line rate each kind of container writes at.
RATE_SHARE: dict[str, float] = {"postgres": 0.25, "redis": 0.1, "generic": 0.05}
