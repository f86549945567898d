"""Settings: runbook defaults, precedence, and bad files giving one clear message."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from cockpit.config import (
    ConfigError,
    Settings,
    Threshold,
    Thresholds,
    dsn_password,
    load_settings,
    mask_dsn,
    masked,
    redact,
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("COCKPIT_", "PG")) or name in (
            "DATABASE_URL",
            "REDIS_URL",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_S3",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_are_the_runbook() -> None:
    s = load_settings()
    assert s.kube.namespace == "excel-unified"
    assert [w.name for w in s.kube.workloads] == [
        "rails",
        "fastapi",
        "sidekiq",
        "nginx",
        "postgres",
        "redis",
    ]
    assert {w.name: w.kind for w in s.kube.workloads}["postgres"] == "StatefulSet"
    assert s.logs.apps == ("rails", "fastapi")
    assert s.logs.error_pattern == "(?i)error"
    assert s.logs.window.total_seconds() == 24 * 3600
    assert s.postgres.idle_minutes == 10
    th = s.thresholds
    assert (th.latency_p50_ms, th.latency_p95_ms, th.latency_p99_ms) == (200, 500, 1000)
    assert th.error_rate_pct == 0.1 and th.throughput_rps == 100
    assert th.cpu_pct.warn == 70 and th.memory_pct.warn == 80
    assert th.disk_pct.warn == 85 and th.network_pct.warn == 80
    assert s.backups.bucket == "excel-unified-backups" and s.backups.retention_days == 30
    assert s.backups.cronjob == "postgres-backup" and s.backups.schedule == "0 2 * * *"
    assert s.kube.restore_replicas == {"rails": 3, "sidekiq": 2}
    assert "https://excel-unified.com/health" in s.health.urls
    assert s.contacts.slack_channel == "#excel-unified-incidents"


def test_precedence_flags_over_env_over_file(tmp_path: Path, monkeypatch) -> None:
    path = write(
        tmp_path,
        '[kube]\nnamespace = "from-file"\ncontext = "file-ctx"\n[poll]\npods = 7\nredis = 9\n',
    )
    s = load_settings(path)
    assert (s.kube.namespace, s.kube.context, s.poll.pods) == ("from-file", "file-ctx", 7)
    monkeypatch.setenv("COCKPIT_KUBE__NAMESPACE", "from-env")
    monkeypatch.setenv("COCKPIT_POLL__PODS", "5")
    s = load_settings(path)
    assert (s.kube.namespace, s.kube.context, s.poll.pods, s.poll.redis) == (
        "from-env",
        "file-ctx",
        5,
        9,
    )
    s = load_settings(path, kube={"namespace": "from-flag"}, read_only=True)
    assert s.kube.namespace == "from-flag" and s.read_only
    assert s.kube.context == "file-ctx"  # untouched keys still come from below


def test_conventional_variables(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, '[redis]\nurl = "redis://file:6379/0"\n')
    monkeypatch.setenv("REDIS_URL", "redis://env:6379/1")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:secret@db:5432/x")
    s = load_settings(path)
    assert s.effective_redis_url() == "redis://env:6379/1"
    assert s.effective_pg_dsn() == "postgresql://u:secret@db:5432/x"
    monkeypatch.setenv("COCKPIT_REDIS__URL", "redis://mine:6379/2")
    assert load_settings(path).effective_redis_url() == "redis://mine:6379/2"


def test_libpq_variables_win_over_the_local_default(monkeypatch) -> None:
    assert load_settings().effective_pg_dsn().startswith("host=127.0.0.1")
    monkeypatch.setenv("PGHOST", "db.internal")
    assert load_settings().effective_pg_dsn() == ""  # "" = let libpq read PG*


def test_per_context_read_only(tmp_path: Path) -> None:
    path = write(tmp_path, '[contexts."prod-eks"]\nread_only = true\n')
    s = load_settings(path)
    assert s.is_read_only("prod-eks") and not s.is_read_only("staging")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a = [\n", "not valid TOML"),
        ("[poll]\npods = -1\n", "poll.pods: Input should be greater than 0"),
        ('[logs]\nerror_pattern = "(["\n', "logs.error_pattern: not a valid regular"),
        ('[kube]\nnamspace = "x"\n', "kube.namspace: unknown setting"),
        ('[kube]\nnamspace = "x"\n', "unknown setting (did you mean kube.namespace?)"),
        ("[poll]\npods = inf\n", "poll.pods: must be a finite number, not inf"),
        ("[poll]\ntimeout = nan\n", "poll.timeout: must be a finite number, not nan"),
        ("[health]\ntimeout = 0\n", "health.timeout: Input should be greater than 0"),
        ("[thresholds]\ncpu_pct = {warn = 95, crit = 10}\n", "thresholds.cpu_pct: warn (95) is"),
        ("[kube.restore_replicas]\nrails = -3\n", "kube.restore_replicas.rails: Input should"),
        ("kube = 3\n", "kube: Input should be a valid dictionary"),
    ],
)
def test_bad_file_names_file_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_bad_env_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_POLL__PODS", "often")
    with pytest.raises(ConfigError, match=r"environment variable COCKPIT_POLL__PODS: poll\.pods"):
        load_settings()


def test_missing_named_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(tmp_path / "nope.toml")


def test_cli_bad_config_exits_2_without_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[poll]\npods = 'x'\n")
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert f"{path}: poll.pods" in done.stderr


def test_cli_config_masks_secrets(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[postgres]\ndsn = "postgresql://ops:hunter2@db:5432/app"\n'
        '[redis]\nurl = "redis://:s3cr3t@cache:6379/0"\n',
    )
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "config", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "hunter2" not in done.stdout and "s3cr3t" not in done.stdout
    assert "postgresql://ops:****@db:5432/app" in done.stdout
    assert 'namespace = "excel-unified"' in done.stdout


def test_masking_helpers() -> None:
    assert mask_dsn("host=db password=abc user=x") == "host=db password=**** user=x"
    assert (
        mask_dsn("postgresql://u:p@h/d?sslmode=require")
        == "postgresql://u:****@h/d?sslmode=require"
    )
    assert masked({"token": "abc", "nested": {"url": "redis://:pw@h:1/0"}}) == {
        "token": "****",
        "nested": {"url": "redis://:****@h:1/0"},
    }
    assert "pw" not in redact("failed to connect redis://:pw@h:1/0 (refused)")


# -- validation: numbers, thresholds, replica counts ---------------------------------


def float_settings(model: type[BaseModel] = Settings, loc: tuple = ()) -> Iterator[tuple]:
    for name, field in model.model_fields.items():
        if field.annotation is float:
            yield (*loc, name)
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            yield from float_settings(field.annotation, (*loc, name))


def nested(loc: tuple, value: object) -> dict:
    for part in reversed(loc):
        value = {part: value}
    return value  # type: ignore[return-value]


def test_every_float_setting_rejects_inf_and_nan() -> None:
    locs = list(float_settings())
    assert ("poll", "pods") in locs and ("thresholds", "cpu_pct", "crit") in locs
    assert len(locs) > 25  # the walk found the sections, not just the top level
    for loc in locs:
        for bad in (math.inf, -math.inf, math.nan):
            with pytest.raises(ConfigError) as info:
                load_settings(**nested(loc, bad))
            key = ".".join(loc)
            assert f"command line: {key}: must be a finite number, not {bad}" in str(info.value)


def test_non_finite_env_var_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_POLL__PODS", "inf")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == (
        "environment variable COCKPIT_POLL__PODS: poll.pods: must be a finite number, not inf"
    )


@pytest.mark.parametrize(
    "key",
    [
        "poll.pods",
        "poll.timeout",
        "poll.backoff_max",
        "kube.request_timeout",
        "kube.resync_seconds",
        "postgres.connect_timeout",
        "redis.connect_timeout",
        "health.timeout",
    ],
)
@pytest.mark.parametrize("value", [0, -1.5])
def test_intervals_and_timeouts_must_be_positive(key: str, value: float) -> None:
    with pytest.raises(ConfigError, match=rf"{key}: Input should be greater than 0"):
        load_settings(**nested(tuple(key.split(".")), value))


THRESHOLDS = [n for n, f in Thresholds.model_fields.items() if f.annotation is Threshold]


@pytest.mark.parametrize("name", THRESHOLDS)
def test_threshold_warn_above_crit_is_rejected(tmp_path: Path, name: str) -> None:
    # Every Threshold is "higher is worse" (thresholds.level_for), so warn <= crit.
    path = write(tmp_path, f"[thresholds]\n{name} = {{warn = 95, crit = 10.5}}\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert f"{path}: thresholds.{name}: warn (95) is above crit (10.5)" in str(info.value)


def test_threshold_ordering_from_env_and_equal_values(monkeypatch) -> None:
    assert load_settings(thresholds={"cpu_pct": {"warn": 90, "crit": 90}}).thresholds.cpu_pct
    monkeypatch.setenv("COCKPIT_THRESHOLDS__DISK_PCT", '{"warn": 99, "crit": 95}')
    with pytest.raises(ConfigError, match=r"COCKPIT_THRESHOLDS__DISK_PCT: thresholds\.disk_pct: "):
        load_settings()


def test_partial_env_table_names_the_variable_that_set_it(monkeypatch) -> None:
    # crit is missing from every source: point at the variable that made the table.
    monkeypatch.setenv("COCKPIT_THRESHOLDS__CPU_PCT__WARN", "75")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == (
        "environment variable COCKPIT_THRESHOLDS__CPU_PCT__WARN: thresholds.cpu_pct.crit: "
        "Field required"
    )


def test_restore_replicas_are_non_negative_integers(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, "[kube.restore_replicas]\nrails = 0\nsidekiq = 4\n")
    assert load_settings(path).kube.restore_replicas == {"rails": 0, "sidekiq": 4}
    monkeypatch.setenv("COCKPIT_KUBE__RESTORE_REPLICAS__RAILS", "-3")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert str(info.value) == (
        "environment variable COCKPIT_KUBE__RESTORE_REPLICAS__RAILS: "
        "kube.restore_replicas.rails: Input should be greater than or equal to 0"
    )
    with pytest.raises(ConfigError, match=r"restore_replicas\.rails: Input should be a valid int"):
        load_settings(kube={"restore_replicas": {"rails": 2.5}})


# -- environment variables -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("COCKPIT_POLL__POD", "poll.pod: unknown setting (did you mean COCKPIT_POLL__PODS?)"),
        ("COCKPIT_BOGUS__X", "bogus.x: unknown setting"),
        ("COCKPIT_BOGUS", "bogus: unknown setting"),
        ("COCKPIT_POLLL__PODS", "polll.pods: unknown setting (did you mean COCKPIT_POLL__PODS?)"),
        ("COCKPIT_POLL_PODS", "poll_pods: unknown setting (did you mean COCKPIT_POLL__PODS?)"),
        ("COCKPIT_READ_ONLY__X", "read_only.x: unknown setting (did you mean COCKPIT_READ_ONLY?)"),
    ],
)
def test_unknown_env_var_is_reported(monkeypatch, name: str, expected: str) -> None:
    monkeypatch.setenv(name, "1")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value) == f"environment variable {name}: {expected}"


def test_env_vars_the_project_reads_itself_are_not_settings(tmp_path: Path, monkeypatch) -> None:
    path = write(tmp_path, '[kube]\nnamespace = "from-file"\n')
    monkeypatch.setenv("COCKPIT_CONFIG", str(path))
    monkeypatch.setenv("COCKPIT_BENCH_MARKS", str(tmp_path / "marks"))
    monkeypatch.setenv("COCKPIT_TEST_PG_DSN", "host=nowhere")
    monkeypatch.setenv("COCKPIT_TEST_REDIS_URL", "redis://nowhere:6379/0")
    monkeypatch.setenv("cockpit_poll__pods", "4")  # pydantic-settings ignores case
    s = load_settings()
    assert s.kube.namespace == "from-file" and s.poll.pods == 4


def test_env_table_that_is_not_json_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("COCKPIT_KUBE__NAMESPACE", "fine")
    monkeypatch.setenv("COCKPIT_KUBE__RESTORE_REPLICAS", "rails=3")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(info.value).startswith(
        "environment variable COCKPIT_KUBE__RESTORE_REPLICAS: kube.restore_replicas: not valid JSON"
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"COCKPIT_BOGUS__X": "1"}, "environment variable COCKPIT_BOGUS__X: bogus.x: unknown"),
        ({"COCKPIT_POLL": "x"}, "environment variable COCKPIT_POLL: poll: not valid JSON"),
    ],
)
def test_cli_bad_env_exits_2_without_traceback(env: dict[str, str], expected: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "config"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("cockpit: configuration error\n")
    assert expected in done.stderr


# -- IPv6 hosts in DSNs and URLs -----------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "shown", "password"),
    [
        (
            "postgresql://user:secret@[::1]:5432/db",
            "postgresql://user:****@[::1]:5432/db",
            "secret",
        ),
        ("redis://:pw@[::1]:6379/0", "redis://:****@[::1]:6379/0", "pw"),
        ("redis://[::1]:6379/0", "redis://[::1]:6379/0", None),
        (
            "postgresql://u:p@[fe80::1%25eth0]/db?password=q",
            "postgresql://u:****@[fe80::1%25eth0]/db?password=****",
            "p",
        ),
        # libpq multi-host URLs and a mistyped bracket: urlsplit raises on these.
        ("postgresql://u:p@h1:5432,h2:5433/db", "postgresql://u:****@h1:5432,h2:5433/db", "p"),
        ("postgresql://u:p@[::1/db", "postgresql://u:****@[::1/db", "p"),
    ],
)
def test_masking_keeps_the_host_as_written(dsn: str, shown: str, password: str | None) -> None:
    assert mask_dsn(dsn) == shown
    assert masked({"postgres": {"dsn": dsn}}) == {"postgres": {"dsn": shown}}
    assert dsn_password(dsn) == password
