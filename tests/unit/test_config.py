"""Settings: runbook defaults, precedence, and bad files giving one clear message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cockpit.config import ConfigError, load_settings, mask_dsn, masked, redact


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
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
