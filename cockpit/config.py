"""Typed settings.  The defaults are the runbook (../shared/RUNBOOK.md).

Precedence, highest first: command-line flags > environment (``COCKPIT_...`` with ``__``
between levels, then the conventional ``DATABASE_URL`` / ``REDIS_URL`` /
``AWS_ENDPOINT_URL_S3``) > the TOML file (``--config`` or ``$COCKPIT_CONFIG`` or the XDG
config dir) > defaults.  libpq's own ``PG*`` variables and the AWS credential chain are
honoured by the clients themselves.  An unknown key, in the file or in a ``COCKPIT_...``
variable, is an error rather than silently ignored.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

# Apart so that what start-up needs before the settings imports no pydantic; re-exported.
from cockpit.config_paths import (  # noqa: F401
    APP_NAME,
    ENV_PREFIX,
    config_path,
    default_config_path,
)
from cockpit.redaction import (  # noqa: F401
    REDACT_NEEDS,
    dsn_password,
    known_secrets,
    mask_dsn,
    masked,
    redact,
)


class Section(BaseModel):
    # A typo in the config file must be an error, not a silently ignored key.  inf/nan
    # (valid TOML, and "inf" parses from an env var) would stop a poller or make a
    # threshold never fire, and `cockpit config` would print them as non-TOML.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# An interval or timeout: zero would spin a poller, a negative one fails at the first sleep.
Seconds = Annotated[float, Field(gt=0)]
Replicas = Annotated[int, Field(ge=0)]  # a negative count is a 422 from the API server


class Workload(Section):
    kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    name: str
    app: str  # the value of the `app=` label that selects its pods


class KubeSettings(Section):
    context: str | None = None  # None: the kubeconfig's current context
    namespace: str = "excel-unified"
    kubeconfig: Path | None = None  # None: $KUBECONFIG or ~/.kube/config
    workloads: tuple[Workload, ...] = (
        Workload(kind="Deployment", name="rails", app="rails"),
        Workload(kind="Deployment", name="fastapi", app="fastapi"),
        Workload(kind="Deployment", name="sidekiq", app="sidekiq"),
        Workload(kind="Deployment", name="nginx", app="nginx"),
        Workload(kind="StatefulSet", name="postgres", app="postgres"),
        Workload(kind="StatefulSet", name="redis", app="redis"),
    )
    # The runbook's counts for "restore service" after an emergency stop.
    restore_replicas: dict[str, Replicas] = {"rails": 3, "sidekiq": 2}
    # The runbook's emergency stop: `kubectl scale deployment rails --replicas=0`.
    emergency_stop: tuple[str, ...] = ("rails",)
    postgres_pod: str = "postgres-0"
    redis_pod: str = "redis-0"
    backup_pod: str = "backup-pod"
    service: str = "nginx-service"
    request_timeout: Seconds = 10.0
    resync_seconds: Seconds = 300.0


class LogSettings(Section):
    apps: tuple[str, ...] = ("rails", "fastapi")
    error_pattern: str = "(?i)error"
    window: timedelta = timedelta(hours=24)
    max_lines: int = Field(default=5_000, ge=100)  # error lines kept in memory
    max_streams: int = Field(default=32, ge=1)  # pods followed at once
    viewer_max_lines: int = Field(default=20_000, ge=100)  # full-screen log view

    @field_validator("error_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value


class Threshold(Section):
    """Higher is worse (thresholds.level_for), so warn must not be above crit."""

    warn: float
    crit: float

    @model_validator(mode="after")
    def _ordered(self) -> Threshold:
        if self.warn > self.crit:
            raise ValueError(
                f"warn ({self.warn:g}) is above crit ({self.crit:g}): higher is worse, "
                "so warn must be at most crit"
            )
        return self


class Thresholds(Section):
    # Application metrics (runbook: monitoring checklist).
    latency_p50_ms: float = 200
    latency_p95_ms: float = 500
    latency_p99_ms: float = 1000
    error_rate_pct: float = 0.1
    throughput_rps: float = 100
    # Infrastructure metrics: warn at the runbook's limit, crit where its alert fires
    # (memory/limit > 0.9) or at 90 % / 95 % where it names none.
    cpu_pct: Threshold = Threshold(warn=70, crit=90)
    memory_pct: Threshold = Threshold(warn=80, crit=90)
    disk_pct: Threshold = Threshold(warn=85, crit=95)
    network_pct: Threshold = Threshold(warn=80, crit=95)
    # Derived signals the cockpit colours on top of the runbook's.
    pg_connections_pct: Threshold = Threshold(warn=80, crit=95)
    redis_memory_pct: Threshold = Threshold(warn=80, crit=95)
    error_lines_per_min: Threshold = Threshold(warn=1, crit=10)


class PostgresSettings(Section):
    # None: $DATABASE_URL, else libpq's PG* variables, else the local server below.
    dsn: str | None = None
    default_dsn: str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    idle_minutes: float = Field(default=10, gt=0)  # runbook: idle > 10 minutes
    statement_timeout_ms: int = Field(default=2_000, ge=100)
    connect_timeout: Seconds = 3.0
    database: str = "excel_unified"  # the database the runbook restores into
    user: str = "excel_user"
    recommended: dict[str, str] = {
        "max_connections": "200",
        "shared_buffers": "256MB",
        "effective_cache_size": "1GB",
        "work_mem": "4MB",
        "maintenance_work_mem": "64MB",
    }


class RedisSettings(Section):
    url: str | None = None  # None: $REDIS_URL, else default_url
    default_url: str = "redis://127.0.0.1:6379/0"
    connect_timeout: Seconds = 3.0
    recommended_policy: str = "allkeys-lru"


class BackupSettings(Section):
    cronjob: str = "postgres-backup"
    schedule: str = "0 2 * * *"
    bucket: str = "excel-unified-backups"
    prefix: str = ""
    retention_days: int = 30
    endpoint_url: str | None = None  # None: $AWS_ENDPOINT_URL_S3 or AWS's own
    region: str | None = None
    directory: str = "/backups/"  # `ls -la /backups/` in backup-pod
    # Dump now / restore: local client binaries (None: found on PATH or /usr/lib/postgresql).
    pg_bindir: Path | None = None
    # A new dump smaller than this fraction of the previous one is suspicious.
    min_size_ratio: float = Field(default=0.5, gt=0, le=1)
    part_size_mb: int = Field(default=8, ge=5)  # multipart upload part size (S3 minimum 5)
    dump_timeout: Seconds = 3600.0  # pg_dump + upload, and restore, may take this long


class HealthSettings(Section):
    """The runbook's `curl .../health` checks: public URLs, and in-cluster services
    reached through the API server's service proxy (no port-forward; RBAC applies)."""

    urls: tuple[str, ...] = (
        "https://excel-unified.com/health",
        "https://api.excel-unified.com/health",
    )
    # Services as NAME:PORT, fetched at /api/v1/namespaces/NS/services/NAME:PORT/proxy<path>.
    services: tuple[str, ...] = ("rails-service:3000", "fastapi-service:8000")
    path: str = "/health"
    timeout: Seconds = 5.0
    latency_ms: Threshold = Threshold(warn=500, crit=2000)
    # Days left on an https certificate: fewer is worse (warn at 14, crit at 3).
    cert_warn_days: int = Field(default=14, ge=0)
    cert_crit_days: int = Field(default=3, ge=0)
    history: int = Field(default=20, ge=2)  # latencies kept per endpoint for the sparkline
    ca_file: Path | None = None  # extra CA bundle for the URLs (None: the system's)
    # URL -> the name shown for it (default: its host, with the port when one is given).
    names: dict[str, str] = {}

    @model_validator(mode="after")
    def _cert_days_ordered(self) -> HealthSettings:
        if self.cert_crit_days > self.cert_warn_days:
            raise ValueError(
                f"cert_crit_days ({self.cert_crit_days}) is above cert_warn_days "
                f"({self.cert_warn_days}): fewer days left is worse"
            )
        return self


class SloSettings(Section):
    """Traffic SLOs from the nginx access logs (no Prometheus needed)."""

    nginx_app: str = "nginx"  # the `app=` label of the pods whose access logs are read
    # Upstream shown -> text that names it in the log's upstream field.
    upstreams: dict[str, str] = {"rails": "rails", "fastapi": "fastapi"}
    objective_pct: float = Field(default=99.9, gt=0, lt=100)  # availability objective
    max_streams: int = Field(default=16, ge=1)  # nginx pods followed at once
    # Each stream starts this far back, so the 1 m window is full at once; the 5 m and
    # burn windows fill as the cockpit runs (and say how much they cover).  Reading is
    # CPU the first screen shares: 5 minutes of 150 req/s took 1.4 s of CPU (bench
    # ingest), one minute a fifth of it.  `cockpit check` reads at least 5 minutes.
    backfill_seconds: int = Field(default=60, ge=0, le=6 * 3600)


class PrometheusSettings(Section):
    """Where Prometheus is: `url`, else the `discover` service through the API server's
    service proxy (NAME:PORT, "" to turn discovery off)."""

    url: str | None = None
    discover: str = "prometheus:9090"
    timeout: Seconds = 5.0
    selector: str = ""  # extra PromQL label matchers, e.g. namespace="excel-unified"


class NotifySettings(Section):
    """The incident channel: a Slack incoming webhook and/or email (SMTP, STARTTLS)."""

    slack_webhook_url: str | None = None  # a secret: masked everywhere, never journaled
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: str | None = None  # a secret
    smtp_starttls: bool = True
    smtp_ca_file: Path | None = None  # extra CA bundle for the SMTP server (None: system)
    email_from: str = "cockpit@excel-unified.com"
    email_to: tuple[str, ...] = ("ops@excel-unified.com",)
    # {level}, {namespace} and {context} are filled in.
    email_subject: str = "[{level}] {namespace} incident ({context})"
    timeout: Seconds = 10.0
    # "Actions taken" in the message: the journal since the incident began as the
    # cockpit saw it, and at least this many hours back.
    journal_hours: float = Field(default=12, gt=0)

    @field_validator("email_subject")
    @classmethod
    def _subject_fills(cls, value: str) -> str:
        try:
            value.format_map({"level": "CRIT", "namespace": "ns", "context": "ctx"})
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"not a valid template ({exc}); use {{level}}, {{namespace}}, {{context}}"
            ) from None
        return value


class PollSettings(Section):
    """Seconds between polls of each source (watches push changes in between)."""

    pods: Seconds = 2.0
    metrics: Seconds = 15.0
    events: Seconds = 5.0
    logs: Seconds = 1.0
    postgres: Seconds = 2.0
    redis: Seconds = 2.0
    host: Seconds = 5.0
    health: Seconds = 10.0
    slo: Seconds = 2.0  # the SLO windows' snapshot (the access logs stream in between)
    prometheus: Seconds = 15.0
    backups: Seconds = 60.0
    timeout: Seconds = 8.0  # one poll, before it counts as failed
    backoff_max: Seconds = 60.0


class Contacts(Section):
    slack_channel: str = "#excel-unified-incidents"
    incident_email: str = "ops@excel-unified.com"
    devops_email: str = "devops@excel-unified.com"
    dev_email: str = "dev@excel-unified.com"
    security_email: str = "security@excel-unified.com"
    on_call_phone: str = "+82-10-XXXX-XXXX"
    team_lead_phone: str = "+82-10-YYYY-YYYY"
    cto_phone: str = "+82-10-ZZZZ-ZZZZ"
    links: dict[str, str] = {
        "production": "https://excel-unified.com",
        "api": "https://api.excel-unified.com",
        "monitoring": "https://monitoring.excel-unified.com",
        "logs": "https://logs.excel-unified.com",
        "status": "https://status.excel-unified.com",
        "docs": "https://docs.excel-unified.com",
        "incidents": "https://jira.excel-unified.com",
        "aws_support": "https://console.aws.amazon.com/support/",
    }


class ContextSettings(Section):
    """Per-kube-context overrides, as ``[contexts."prod"]`` in the file."""

    read_only: bool = False
    namespace: str | None = None


class DiskSettings(Section):
    """The runbook's disk chores: `df -h` in the data pods, then the three clean-up steps.

    The log rule also looks where this cluster's servers write their logs (PostgreSQL's
    logging_collector writes under its data volume, the apps under /app/logs): /var/log
    alone frees nothing on postgres-0."""

    pods: tuple[str, ...] = ("postgres-0",)  # always watched
    persistent_pods: bool = True  # and every pod with a persistentVolumeClaim mounted
    interval: Seconds = 60.0  # exec is not free: poll slowly
    exec_timeout: Seconds = 20.0
    container: str | None = None  # None: the pod's first container
    large_mb: int = Field(default=100, ge=1)  # `find / -type f -size +100M`: shown only
    large_dirs: tuple[str, ...] = ("/",)
    large_skip: tuple[str, ...] = ("/proc", "/sys", "/dev")  # pseudo filesystems
    delete_large: bool = False  # large files are for inspection, not deletion
    log_pattern: str = "*.log"
    log_days: int = Field(default=7, ge=0)  # `find /var/log -name "*.log" -mtime +7`
    log_dirs: tuple[str, ...] = ("/var/log", "/var/lib/postgresql/data/log", "/app/logs")
    upload_days: int = Field(default=30, ge=0)  # `find /app/uploads -mtime +30`
    upload_dirs: tuple[str, ...] = ("/app/uploads",)
    preview_cap: int = Field(default=500, ge=1)  # files listed per rule and directory
    batch: int = Field(default=50, ge=1)  # files checked and removed per exec


class RecorderSettings(Section):
    """The flight recorder: every snapshot and action, kept as changes (bounded)."""

    enabled: bool = True
    path: Path | None = None  # None: recording.db beside the journal
    max_mb: int = Field(default=256, ge=1)  # the oldest data goes first beyond this


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
    )

    read_only: bool = False
    dry_run: bool = False
    journal_path: Path | None = None  # None: the XDG state dir
    kube: KubeSettings = KubeSettings()
    contexts: dict[str, ContextSettings] = {}
    logs: LogSettings = LogSettings()
    thresholds: Thresholds = Thresholds()
    postgres: PostgresSettings = PostgresSettings()
    redis: RedisSettings = RedisSettings()
    backups: BackupSettings = BackupSettings()
    health: HealthSettings = HealthSettings()
    slo: SloSettings = SloSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    notify: NotifySettings = NotifySettings()
    poll: PollSettings = PollSettings()
    contacts: Contacts = Contacts()
    disk: DiskSettings = DiskSettings()
    recorder: RecorderSettings = RecorderSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        file_data = _FILE_DATA.get("data") or {}
        return (
            init_settings,  # command-line flags
            env_settings,  # COCKPIT_...
            InitSettingsSource(settings_cls, conventional_env()),
            InitSettingsSource(settings_cls, file_data),
        )

    # -- derived values -------------------------------------------------------------

    def context_settings(self, context: str | None) -> ContextSettings:
        return self.contexts.get(context or "", ContextSettings())

    def is_read_only(self, context: str | None) -> bool:
        return self.read_only or self.context_settings(context).read_only

    def effective_journal_path(self) -> Path:
        if self.journal_path is not None:
            return self.journal_path
        return Path(platformdirs.user_state_dir(APP_NAME)) / "journal.jsonl"

    def effective_recording_path(self) -> Path:
        if self.recorder.path is not None:
            return self.recorder.path
        return self.effective_journal_path().with_name("recording.db")

    def effective_redis_url(self) -> str:
        return self.redis.url or self.redis.default_url

    def effective_pg_dsn(self) -> str:
        """The DSN handed to libpq.  An empty string means "libpq's PG* variables"."""
        if self.postgres.dsn:
            return self.postgres.dsn
        if any(name in os.environ for name in _LIBPQ_ENV):
            return ""
        return self.postgres.default_dsn


# The file's parsed contents travel to settings_customise_sources through this slot:
# pydantic-settings builds sources from classmethods, with no per-call argument.
_FILE_DATA: dict[str, Any] = {}

_LIBPQ_ENV = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE")


def conventional_env(environ: os._Environ[str] | dict[str, str] | None = None) -> dict:
    """The usual variables other tools read, mapped onto our settings."""
    env = os.environ if environ is None else environ
    data: dict[str, dict[str, str]] = {}
    if env.get("DATABASE_URL"):
        data.setdefault("postgres", {})["dsn"] = env["DATABASE_URL"]
    if env.get("REDIS_URL"):
        data.setdefault("redis", {})["url"] = env["REDIS_URL"]
    endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    if endpoint:
        data.setdefault("backups", {})["endpoint_url"] = endpoint
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        data.setdefault("backups", {})["region"] = region
    return data


class ConfigError(Exception):
    """A configuration problem, worded for the person who has to fix it."""


def read_config_file(path: Path, required: bool) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such file") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _lookup(data: Any, loc: tuple) -> bool:
    for part in loc:
        in_dict = isinstance(data, dict) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and part < len(data)
        if in_dict or in_list:
            data = data[part]
        else:
            return False
    return True


def _env_loc(name: str) -> tuple[str, ...]:
    return tuple(name[len(ENV_PREFIX) :].lower().split("__"))


def _env_names(loc: tuple) -> list[str]:
    """The COCKPIT_ variables that set `loc` or something inside it."""
    name = ENV_PREFIX + "__".join(str(p) for p in loc).upper()
    return sorted(k for k in os.environ if k.upper() == name or k.upper().startswith(name + "__"))


def _origin(loc: tuple, flags: dict, file_path: Path, file_data: dict) -> str:
    """Which source supplied the bad value, so the message points where to fix it."""
    # A missing key is in no source: name the one that supplied its enclosing table.
    for end in range(len(loc), 0, -1):
        part = loc[:end]
        if _lookup(flags, part):
            return "command line"
        if names := _env_names(part):
            return "environment variable " + ", ".join(names)
        if _lookup(conventional_env(), part):
            return "environment (DATABASE_URL / REDIS_URL / AWS_*)"
        if _lookup(file_data, part):
            return str(file_path)
    return str(file_path) if file_data else "settings"


def _is_table(kind: Any) -> bool:
    """Whether pydantic-settings reads `__`-nested variables (or JSON) into this type."""
    is_model = isinstance(kind, type) and issubclass(kind, BaseModel)
    return is_model or get_origin(kind) in (dict, tuple, list)


def _field_type(loc: tuple[str, ...]) -> Any:
    """The type of the setting at `loc` (stepping through dict keys), or None if unknown."""
    kind: Any = Settings
    for part in loc:
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            if part not in kind.model_fields:
                return None
            kind = kind.model_fields[part].annotation
        elif get_origin(kind) is dict:
            kind = get_args(kind)[1]
        else:
            return None
    return kind


def _setting_paths(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[str]:
    for name, field in model.model_fields.items():
        yield prefix + name
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from _setting_paths(field.annotation, f"{prefix}{name}.")


def _did_you_mean(loc: tuple, as_env: bool) -> str:
    key = ".".join(str(p) for p in loc)
    close = difflib.get_close_matches(key, list(_setting_paths()), n=1, cutoff=0.8)
    if not close:
        return ""
    best = ENV_PREFIX + close[0].replace(".", "__").upper() if as_env else close[0]
    return f" (did you mean {best}?)"


# COCKPIT_ variables the project reads itself, outside the settings.
_OWN_ENV = ("COCKPIT_CONFIG", "COCKPIT_BENCH_MARKS")
_OWN_ENV_PREFIX = "COCKPIT_TEST_"  # the test fixtures' switches (tests/fixtures/)


def _unknown_env(environ: Mapping[str, str]) -> Iterator[str]:
    """COCKPIT_ variables pydantic-settings would skip without a word: an unknown top-level
    name, or one nested under a plain value (COCKPIT_READ_ONLY__X).  Unknown keys inside a
    section reach the section's extra="forbid" and are reported by validation."""
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in _OWN_ENV:
            continue
        if upper.startswith(_OWN_ENV_PREFIX):
            continue
        loc = _env_loc(name)
        kind = _field_type(loc[:1])
        if kind is None or (len(loc) > 1 and not _is_table(kind)):
            yield name


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _env_parse_problem(exc: SettingsError) -> str:
    """pydantic-settings names only the top-level field whose variable is not JSON."""
    match = re.search(r'field "([^"]+)"', str(exc))
    field = match.group(1) if match else ""
    names = _env_names((field,)) if field else []
    bad = [n for n in names if _is_table(_field_type(_env_loc(n))) and not _is_json(os.environ[n])]
    names = bad or names
    if not names:
        return f"environment: {exc}"
    key = ".".join(_env_loc(names[0])) if len(names) == 1 else field
    return (
        f"environment variable {', '.join(names)}: {key}: not valid JSON "
        "(a list or table in one variable is written as JSON)"
    )


def _problem(err: ErrorDetails, flags: dict, file_path: Path, file_data: dict) -> str:
    loc = tuple(p for p in err["loc"] if p != "__root__")
    key = ".".join(str(p) for p in loc) or "(top level)"
    origin = _origin(loc, flags, file_path, file_data)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown setting" + _did_you_mean(loc, origin.startswith("environment variable"))
    elif err["type"] == "finite_number":
        msg = f"must be a finite number, not {err['input']}"
    return f"{origin}: {key}: {msg}"


def load_settings(config: Path | None = None, **flags: Any) -> Settings:
    """Build the effective settings.  Raises ConfigError with one readable message."""
    path, required = config_path(config)
    file_data = read_config_file(path, required)
    flags = {k: v for k, v in flags.items() if v is not None}
    problems = [
        f"environment variable {name}: {'.'.join(_env_loc(name))}: unknown setting"
        + _did_you_mean(_env_loc(name), as_env=True)
        for name in _unknown_env(os.environ)
    ]
    _FILE_DATA["data"] = file_data
    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        problems += [_problem(err, flags, path, file_data) for err in exc.errors()]
    except SettingsError as exc:  # a list or table variable that is not JSON
        problems.append(_env_parse_problem(exc))
    finally:
        _FILE_DATA.clear()
    if problems:
        raise ConfigError("\n".join(problems))
    return settings
