"""Secrets kept out of what the cockpit shows and writes: DSN passwords, known values.

Apart from the settings (cockpit/config.py re-exports these) so that the journal and
the error messages need no pydantic at start-up."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.config import Settings

_SECRET_KEY = re.compile(r"(password|passwd|secret|token|credential|webhook)", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


# scheme://, netloc, rest: split by hand because urlsplit's .hostname drops an IPv6 host's
# brackets, and it raises on a multi-host libpq URL (h1:5432,h2:5433) or an unclosed "[".
_URL = re.compile(r"([a-z][a-z0-9+.-]*://)([^/?#]*)(.*)", re.IGNORECASE | re.DOTALL)


def mask_dsn(dsn: str) -> str:
    """Hide the password in a URL-style or key=value DSN; keep everything else as written."""
    url = _URL.fullmatch(dsn)
    if url is None:
        return _KV_PASSWORD.sub(r"\1****", dsn)
    scheme, netloc, rest = url.groups()
    userinfo, at, hostport = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.partition(':')[0]}:****@{hostport}"
    return re.sub(r"(password=)[^&]*", r"\1****", scheme + netloc + rest, flags=re.IGNORECASE)


def dsn_password(dsn: str) -> str | None:
    """The password in a URL-style or key=value DSN, if any (without importing libpq)."""
    url = _URL.fullmatch(dsn)
    if url is not None:
        userinfo, at, _ = url.group(2).rpartition("@")
        return userinfo.partition(":")[2] if at and ":" in userinfo else None
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


# What each pattern of redact() needs in a text to match (case aside): a DSN's scheme
# separator, a password=.  audit.scrub_text skips texts with none of these (and no known
# secret); a new pattern here names what it needs here too.
REDACT_NEEDS = ("://", "password")


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


def known_secrets(settings: Settings) -> tuple[str, ...]:
    """Passwords the journal must mask even where they hide in free text."""
    found = [
        dsn_password(settings.effective_pg_dsn()),
        os.environ.get("PGPASSWORD"),
        dsn_password(settings.effective_redis_url()),
        dsn_password(settings.backups.endpoint_url or ""),
        settings.notify.slack_webhook_url,
        settings.notify.smtp_password,
        dsn_password(settings.prometheus.url or ""),
    ]
    return tuple(dict.fromkeys(secret for secret in found if secret))
