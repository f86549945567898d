"""S3Source against a moto server over real HTTP: listing order, bounds, and every failure
worded for the screen (missing bucket, unknown key, access denied, no credentials, a dead
or silent endpoint)."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cockpit.config import BackupSettings
from cockpit.errors import SourceError
from cockpit.sources.backups.s3 import NO_CREDENTIALS, S3Source
from cockpit.sources.backups.source import combine
from tests.fixtures.s3 import MotoServer, SilentEndpoint

NOW = datetime(2026, 1, 31, 9, 0, tzinfo=UTC)
Put = Callable[[str, dict[str, int]], None]


def dated(days_ago: float, suffix: str = ".sql.gz") -> str:
    moment = NOW - timedelta(days=days_ago)
    return f"backup_{moment:%Y%m%d}_020000{suffix}"


def source(server: MotoServer, bucket: str, **kw: Any) -> S3Source:
    prefix = kw.pop("prefix", "")
    settings = BackupSettings(bucket=bucket, prefix=prefix, endpoint_url=server.url)
    return S3Source(settings, **kw)


def test_lists_newest_first_by_name_time(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    # Put in a shuffled order; moto dates them all "now", so only the names can order them.
    put_backups(
        s3_bucket,
        {dated(2): 300, dated(0): 500, dated(40, ".sql"): 100, dated(1): 400, "notes.txt": 7},
    )
    result = source(moto_server, s3_bucket).list_backups(NOW)
    keys = [o.key for o in result.objects]
    # notes.txt has no date in its name: its LastModified (now, in 2026-11) makes it newest.
    assert keys[1:] == [dated(0), dated(1), dated(2), dated(40, ".sql")]
    assert result.objects[1].size == 500 and not result.truncated
    assert result.objects[1].taken == datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
    assert result.objects[1].modified is not None  # moto's LastModified, kept as well


def test_retention_and_age_against_a_fixed_now(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    put_backups(s3_bucket, {dated(n): 10 for n in (0.3, 1, 2, 31, 35, 60)})
    result = source(moto_server, s3_bucket).list_backups(NOW)
    snap = combine(None, result, BackupSettings(bucket=s3_bucket), NOW)
    assert snap.object_count == 6 and snap.past_retention == 3
    assert snap.newest is not None and snap.newest.key == dated(0.3)


def test_prefix_and_folder_markers(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    put_backups(s3_bucket, {"prod/": 0, "prod/" + dated(1): 10, "staging/" + dated(0.2): 10})
    result = source(moto_server, s3_bucket, prefix="prod/").list_backups(NOW)
    assert [o.key for o in result.objects] == ["prod/" + dated(1)]


def test_listing_is_bounded_and_still_finds_the_newest(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    # 12 old dumps sort before the 2 recent ones; a limit of 4 keys stops in the old ones,
    # and the second, dated listing (StartAfter) still brings the recent dumps in.
    put_backups(
        s3_bucket, {**{dated(100 + n): 10 for n in range(12)}, dated(0.3): 10, dated(1): 10}
    )
    result = source(moto_server, s3_bucket, max_keys=4).list_backups(NOW)
    assert result.truncated and result.key_limit == 4
    assert [o.key for o in result.objects[:2]] == [dated(0.3), dated(1)]
    assert len(result.objects) == 6


def test_missing_bucket(moto_server: MotoServer, aws_env: None) -> None:
    with pytest.raises(SourceError) as caught:
        source(moto_server, "no-such-bucket-here").list_backups(NOW)
    assert caught.value.message == "no such bucket: s3://no-such-bucket-here"
    assert "backups.bucket" in caught.value.hint


@pytest.fixture
def auth_user(moto_server: MotoServer, s3_bucket: str) -> Iterator[dict[str, str]]:
    """An IAM user with no policy at all (so: no s3:ListBucket), then auth switched on."""
    iam = moto_server.client("iam")
    name = f"reader-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    with moto_server.auth():
        yield {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def test_unknown_access_key(
    moto_server: MotoServer, s3_bucket: str, auth_user: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEUNKNOWN00")
    with pytest.raises(SourceError) as caught:
        source(moto_server, s3_bucket).list_backups(NOW)
    assert caught.value.message == "AWS does not know this access key (InvalidAccessKeyId)"


def test_wrong_secret(
    moto_server: MotoServer, s3_bucket: str, auth_user: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", auth_user["id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(SourceError) as caught:
        source(moto_server, s3_bucket).list_backups(NOW)
    assert "SignatureDoesNotMatch" in caught.value.message
    assert "not-the-secret" not in caught.value.message + caught.value.hint


def test_access_denied(
    moto_server: MotoServer, s3_bucket: str, auth_user: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", auth_user["id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", auth_user["secret"])
    with pytest.raises(SourceError) as caught:
        source(moto_server, s3_bucket).list_backups(NOW)
    assert caught.value.message == f"access denied listing s3://{s3_bucket}/"
    assert "s3:ListBucket" in caught.value.hint


def test_no_credentials_then_credentials_appear(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put, monkeypatch: Any
) -> None:
    put_backups(s3_bucket, {dated(1): 10})
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    s3 = source(moto_server, s3_bucket)
    with pytest.raises(SourceError) as caught:
        s3.list_backups(NOW)
    assert caught.value.message == NO_CREDENTIALS
    # No client is built for nothing at every retry (each costs CPU and garbage).
    with pytest.raises(SourceError):
        s3.list_backups(NOW)
    assert s3._client is None
    # The client is rebuilt after a credentials error, so fixing the environment (or an
    # `aws sso login`) is picked up by the next poll without a restart.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    assert [o.key for o in s3.list_backups(NOW).objects] == [dated(1)]


def test_endpoint_down_is_quick_and_clear(aws_env: None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings = BackupSettings(
        bucket="excel-unified-backups", endpoint_url=f"http://127.0.0.1:{port}"
    )
    started = time.monotonic()
    with pytest.raises(SourceError) as caught:
        S3Source(settings).list_backups(NOW)
    assert caught.value.message == f"S3 endpoint unreachable: http://127.0.0.1:{port}"
    assert "endpoint_url" in caught.value.hint
    assert time.monotonic() - started < 5  # one retry, not a storm


def test_silent_endpoint_times_out(aws_env: None, silent_endpoint: SilentEndpoint) -> None:
    url = silent_endpoint.url
    settings = BackupSettings(bucket="excel-unified-backups", endpoint_url=url)
    with pytest.raises(SourceError) as caught:
        S3Source(settings, read_timeout=0.2, attempts=1).list_backups(NOW)
    assert caught.value.message == f"S3 endpoint did not answer in time: {url}"


def test_hostile_keys_come_back_as_they_are(
    moto_server: MotoServer, s3_bucket: str, put_backups: Put
) -> None:
    keys = ["[bold]x", "[@click=app.quit]x[/]", "esc\x1b[31mred", dated(1)]
    put_backups(s3_bucket, dict.fromkeys(keys, 3))
    listed = {o.key for o in source(moto_server, s3_bucket).list_backups(NOW).objects}
    assert listed == set(keys)
