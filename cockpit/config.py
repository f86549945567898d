"""Typed settings.  The defaults are the runbook (../shared/RUNBOOK.md).

Precedence, highest first: command-line flags > environment (``COCKPIT_...`` with ``__``
between levels, then the conventional ``DATABASE_URL`` / ``REDIS_URL`` /
``AWS_ENDPOINT_URL_S3``) > the TOML file (``--config`` or ``$COCKPIT_CONFIG`` or the XDG
config dir) > defaults.  libpq's own ``PG*`` variables and the AWS credential chain are
honoured by the clients themselves.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

APP_NAME = "cockpit"
ENV_PREFIX = "COCKPIT_"


class Section(BaseModel):
    # A typo in the config file must be an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    restore_replicas: dict[str, int] = {"rails": 3, "sidekiq": 2}
    # The runbook's emergency stop: `kubectl scale deployment rails --replicas=0`.
    emergency_stop: tuple[str, ...] = ("rails",)
    postgres_pod: str = "postgres-0"
    redis_pod: str = "redis-0"
    backup_pod: str = "backup-pod"
    service: str = "nginx-service"
    request_timeout: float = 10.0
    resync_seconds: float = 300.0


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
    warn: float
    crit: float


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
    connect_timeout: float = Field(default=3.0, gt=0)
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
    connect_timeout: float = Field(default=3.0, gt=0)
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


class HealthSettings(Section):
    urls: tuple[str, ...] = (
        "https://excel-unified.com/health",
        "https://api.excel-unified.com/health",
    )
    timeout: float = 5.0


class PollSettings(Section):
    """Seconds between polls of each source (watches push changes in between)."""

    pods: float = Field(default=2.0, gt=0)
    metrics: float = Field(default=15.0, gt=0)
    events: float = Field(default=5.0, gt=0)
    logs: float = Field(default=1.0, gt=0)
    postgres: float = Field(default=2.0, gt=0)
    redis: float = Field(default=2.0, gt=0)
    host: float = Field(default=5.0, gt=0)
    health: float = Field(default=30.0, gt=0)
    backups: float = Field(default=60.0, gt=0)
    timeout: float = Field(default=8.0, gt=0)  # one poll, before it counts as failed
    backoff_max: float = Field(default=60.0, gt=0)


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
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
    poll: PollSettings = PollSettings()
    contacts: Contacts = Contacts()

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


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def config_path(explicit: Path | None) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist)."""
    if explicit is not None:
        return explicit, True
    if os.environ.get("COCKPIT_CONFIG"):
        return Path(os.environ["COCKPIT_CONFIG"]), True
    return default_config_path(), False


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


def _origin(loc: tuple, flags: dict, file_path: Path, file_data: dict) -> str:
    """Which source supplied the bad value, so the message points where to fix it."""
    if _lookup(flags, loc):
        return "command line"
    env_name = ENV_PREFIX + "__".join(str(p) for p in loc).upper()
    if loc and any(k.upper().startswith(env_name) for k in os.environ):
        return f"environment variable {env_name}"
    if _lookup(conventional_env(), loc):
        return "environment (DATABASE_URL / REDIS_URL / AWS_*)"
    if _lookup(file_data, loc):
        return str(file_path)
    return str(file_path) if file_data else "settings"


def load_settings(config: Path | None = None, **flags: Any) -> Settings:
    """Build the effective settings.  Raises ConfigError with one readable message."""
    path, required = config_path(config)
    file_data = read_config_file(path, required)
    flags = {k: v for k, v in flags.items() if v is not None}
    _FILE_DATA["data"] = file_data
    try:
        return Settings(**flags)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != "__root__")
            key = ".".join(str(p) for p in loc) or "(top level)"
            origin = _origin(loc, flags, path, file_data)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown setting"
            problems.append(f"{origin}: {key}: {msg}")
        raise ConfigError("\n".join(problems)) from None
    finally:
        _FILE_DATA.clear()


# -- secrets --------------------------------------------------------------------------

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|credential)", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def mask_dsn(dsn: str) -> str:
    """Hide the password in a URL-style or key=value DSN; keep everything else."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        if parts.password is not None:
            user = parts.username or ""
            host = parts.hostname or ""
            if parts.port:
                host = f"{host}:{parts.port}"
            netloc = f"{user}:****@{host}"
            dsn = urlunsplit(parts._replace(netloc=netloc))
        return re.sub(r"(password=)[^&]*", r"\1****", dsn, flags=re.IGNORECASE)
    return _KV_PASSWORD.sub(r"\1****", dsn)


def dsn_password(dsn: str) -> str | None:
    """The password in a URL-style or key=value DSN, if any (without importing libpq)."""
    if "://" in dsn:
        return urlsplit(dsn).password
    match = _KV_PASSWORD.search(dsn)
    if not match:
        return None
    value = match.group(2)
    if value.startswith("'") and value.endswith("'"):
        value = value[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return value


def masked(value: Any, key: str = "") -> Any:
    """A copy of a settings dump with every secret masked."""
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked(v, key) for v in value]
    if isinstance(value, str):
        if _SECRET_KEY.search(key):
            return "****"
        if "://" in value or "password" in value.lower():
            return mask_dsn(value)
    return value


def redact(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """Mask DSN passwords and known secret values inside free text (errors, journal)."""
    text = re.sub(
        r"([a-z][a-z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)", r"\1****\3", text, flags=re.IGNORECASE
    )
    text = _KV_PASSWORD.sub(r"\1****", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text
