"""The backup objects in S3: one bounded, paginated ListObjectsV2 of s3://<bucket>/<prefix>.

boto3 is blocking, so `S3Source.listing()` runs it in a thread.  Credentials come from
the standard chain (env, profile, SSO, instance role); the endpoint and region from the
settings (which already honour AWS_ENDPOINT_URL_S3 / AWS_REGION).  Short timeouts and a
single retry: at 60 s intervals a dead endpoint must cost seconds, not a retry storm.
Every failure becomes a `SourceError` worded for the person at the screen.
"""

from __future__ import annotations

import asyncio
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from cockpit.config import BackupSettings, redact
from cockpit.errors import SourceError
from cockpit.model import BackupObject

MAX_KEYS = 5_000  # a 30-day daily rotation is ~30 keys; this bound only guards a wrong prefix
PAGE_SIZE = 1_000
NO_CREDENTIALS = (
    "no AWS credentials found (set AWS_PROFILE / AWS_ACCESS_KEY_ID or configure an instance role)"
)

# The runbook names dumps backup_$(date +%Y%m%d_%H%M%S).sql, in the container's UTC.
_NAME_TIME = re.compile(r"backup_(\d{8})_(\d{6})")


def name_time(key: str) -> datetime | None:
    """The dump time in a key named like backup_20240126_020000.sql(.gz), else None."""
    match = _NAME_TIME.search(key.rsplit("/", 1)[-1])
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S").replace(
            tzinfo=UTC
        )
    except ValueError:  # backup_20241399_... : not a date after all
        return None


@dataclass(frozen=True, slots=True)
class S3Listing:
    objects: tuple[BackupObject, ...]  # every object seen (up to the bound), newest first
    truncated: bool  # the bound was hit: more keys exist than were read
    key_limit: int


class S3Source:
    """Lists the backup bucket.  One boto3 client, made lazily and dropped after errors
    that a new client could fix (credentials that appear later, an SSO login)."""

    def __init__(
        self,
        settings: BackupSettings,
        *,
        max_keys: int = MAX_KEYS,
        connect_timeout: float = 2.0,
        read_timeout: float = 5.0,
        attempts: int = 2,
    ) -> None:
        self.settings = settings
        self.max_keys = max_keys
        self._config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            # total_max_attempts counts the first try: 2 = one retry, never a storm.
            retries={"total_max_attempts": attempts, "mode": "standard"},
            user_agent_extra="cockpit",
        )
        self._client: Any = None
        self._session: Any = None
        self._lock = threading.Lock()  # boto3 sessions are not thread-safe to build

    @property
    def where(self) -> str:
        return f"s3://{self.settings.bucket}/{self.settings.prefix}"

    def _get_client(self) -> Any:
        with self._lock:
            if self._client is None:
                if self._session is None:
                    self._session = boto3.session.Session()
                session = self._session
                # A session without credentials looks again on every call; building a
                # client for nothing costs a tenth of a second of CPU and leaves tens
                # of thousands of objects to the cyclic collector, at every retry.
                if session.get_credentials() is None:
                    raise NoCredentialsError()
                self._client = session.client(
                    "s3",
                    endpoint_url=self.settings.endpoint_url or None,
                    region_name=self.settings.region or None,
                    config=self._config,
                )
            return self._client

    def reset(self) -> None:
        """Forget the client and session: the next call reads the credentials afresh."""
        with self._lock:
            self._client = None
            self._session = None

    def close(self) -> None:
        """Drop the client and its connection pool."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    async def listing(self, now: datetime | None = None) -> S3Listing:
        return await asyncio.to_thread(self.list_backups, now)

    def list_backups(self, now: datetime | None = None) -> S3Listing:
        """Blocking: list the prefix (bounded), newest first.  Raises SourceError."""
        now = now or datetime.now(UTC)
        try:
            client = self._get_client()
            found, truncated = self._list(client, None)
            if truncated:
                # Keys come back in name order, so a capped listing holds the *oldest*
                # dumps.  Dated names sort by date: list the recent ones on their own.
                since = now - timedelta(days=self.settings.retention_days + 1)
                start = f"{self.settings.prefix}backup_{since:%Y%m%d}"
                recent, _ = self._list(client, start)
                found.update(recent)
        except Exception as exc:
            error = s3_error(exc, self.settings)
            if isinstance(exc, NoCredentialsError):
                with self._lock:
                    self._client = None  # the session looks for credentials again
            elif _needs_new_client(exc):
                self.reset()
            raise error from None
        ordered = sorted(found.values(), key=_newest_first_key, reverse=True)
        return S3Listing(tuple(ordered), truncated, self.max_keys)

    def _list(self, client: Any, start_after: str | None) -> tuple[dict[str, BackupObject], bool]:
        args: dict[str, Any] = {"Bucket": self.settings.bucket, "Prefix": self.settings.prefix}
        if start_after:
            args["StartAfter"] = start_after
        paginator = client.get_paginator("list_objects_v2")
        page_size = min(PAGE_SIZE, self.max_keys)
        pages = paginator.paginate(**args, PaginationConfig={"PageSize": page_size})
        found: dict[str, BackupObject] = {}
        for page in pages:
            for item in page.get("Contents") or ():
                key = str(item.get("Key", ""))
                if key.endswith("/"):
                    continue  # a "folder" marker, not a backup
                found[key] = BackupObject(
                    key=key,
                    size=int(item.get("Size") or 0),
                    modified=_utc(item.get("LastModified")),
                    taken=name_time(key),
                    etag=str(item.get("ETag") or "").strip('"'),
                )
            if len(found) >= self.max_keys:
                return found, bool(page.get("IsTruncated"))
        return found, False


def _utc(value: Any) -> datetime | None:
    return value.astimezone(UTC) if isinstance(value, datetime) else None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _newest_first_key(obj: BackupObject) -> tuple[datetime, str]:
    return (obj.when or _EPOCH, obj.key)


def _needs_new_client(exc: BaseException) -> bool:
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError, ProfileNotFound)):
        return True
    code = _code(exc)
    return code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidToken"}


def _code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str((exc.response.get("Error") or {}).get("Code") or "")
    return ""


def s3_error(exc: BaseException, settings: BackupSettings) -> SourceError:
    """Any boto3/botocore failure as (message, hint) in words."""
    where = f"s3://{settings.bucket}/{settings.prefix}"
    endpoint = settings.endpoint_url or "AWS S3"
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, NoCredentialsError):
        return SourceError(NO_CREDENTIALS, "the standard AWS credential chain found nothing")
    if isinstance(exc, PartialCredentialsError):
        return SourceError(
            f"incomplete AWS credentials: {exc.kwargs.get('cred_var', 'a value')} is missing",
            "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a profile",
        )
    if isinstance(exc, ProfileNotFound):
        return SourceError(
            f"AWS profile not found: {exc.kwargs.get('profile', '?')}",
            "check AWS_PROFILE and ~/.aws/config",
        )
    if isinstance(exc, NoRegionError):
        return SourceError("no AWS region configured", "set AWS_REGION or backups.region")
    if isinstance(exc, EndpointConnectionError):
        return SourceError(
            f"S3 endpoint unreachable: {redact(endpoint)}",
            "check backups.endpoint_url / AWS_ENDPOINT_URL_S3 and the network",
        )
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError)):
        return SourceError(
            f"S3 endpoint did not answer in time: {redact(endpoint)}",
            "the endpoint is slow or unreachable",
        )
    if isinstance(exc, ClientError):
        return _client_error(exc, where, settings)
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return SourceError(
            f"invalid S3 endpoint URL: {redact(endpoint)}",
            "set backups.endpoint_url to http(s)://host:port",
        )
    if isinstance(exc, BotoCoreError):
        return SourceError(f"S3: {redact(str(exc))[:300]}")
    return SourceError(f"S3: {type(exc).__name__}: {redact(str(exc))[:300]}")


def _client_error(exc: ClientError, where: str, settings: BackupSettings) -> SourceError:
    code = _code(exc)
    status = (exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
    if code == "NoSuchBucket":
        return SourceError(
            f"no such bucket: s3://{settings.bucket}",
            "check backups.bucket (the runbook's is excel-unified-backups)",
        )
    if code in {"AccessDenied", "AllAccessDisabled", "403"} or (status == 403 and not code):
        return SourceError(
            f"access denied listing {where}", "the credentials need s3:ListBucket on the bucket"
        )
    if code == "InvalidAccessKeyId":
        return SourceError(
            "AWS does not know this access key (InvalidAccessKeyId)",
            "check AWS_ACCESS_KEY_ID / the profile's credentials",
        )
    if code == "SignatureDoesNotMatch":
        return SourceError(
            "AWS rejected the secret key (SignatureDoesNotMatch)",
            "check AWS_SECRET_ACCESS_KEY / the profile's credentials",
        )
    if code in {"ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidToken"}:
        return SourceError(
            "the AWS session credentials have expired",
            "refresh them (aws sso login / a new session token)",
        )
    if code in {"PermanentRedirect", "AuthorizationHeaderMalformed", "301"}:
        return SourceError(
            f"s3://{settings.bucket} is in another region",
            "set backups.region (or AWS_REGION) to the bucket's region",
        )
    message = str((exc.response.get("Error") or {}).get("Message") or "")
    return SourceError(redact(f"S3 error {code or status}: {message}")[:300])
