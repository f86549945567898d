"""TLS for the health checks: the trust used, the peer certificate's days left, and a
refused certificate in words.

The days left come from the connection the check itself made (httpx hands out the
stream's ssl object), so no second handshake is needed; a certificate that fails
verification never gets that far and is shown as the check's error instead.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

from cockpit.errors import certificate_problem

_UNTRUSTED_HINT = (
    "the certificate is not signed by a CA this machine trusts: "
    "set health.ca_file to the CA bundle that signed it"
)


def client_context(ca_file: Path | None = None) -> ssl.SSLContext:
    """The system's trust store, plus `ca_file` when one is configured."""
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=str(ca_file.expanduser()))
    return context


def cert_days(response: Any, now: float | None = None) -> float | None:
    """Days until the certificate of the connection that carried `response` expires;
    None for plain http or when the transport does not expose it."""
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    ssl_object = stream.get_extra_info("ssl_object")
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    not_after = cert.get("notAfter") if cert else None
    if not isinstance(not_after, str):
        return None
    expires = ssl.cert_time_to_seconds(not_after)
    return (expires - (time.time() if now is None else now)) / 86400


def tls_problem(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for a TLS failure anywhere in `exc`'s chain, else None."""
    problem = certificate_problem(exc)
    if problem is not None:
        message, hint = problem
        lowered = message.lower()
        if any(w in lowered for w in ("self-signed", "self signed", "local issuer", "unknown ca")):
            hint = _UNTRUSTED_HINT
        return message, hint
    seen: set[int] = set()
    item: BaseException | None = exc
    while item is not None and id(item) not in seen:
        seen.add(id(item))
        if isinstance(item, ssl.SSLError):
            words = (item.reason or str(item)).replace("_", " ").lower()
            return (
                f"TLS handshake failed ({words})",
                "the server's TLS setup does not match this client (protocol, cipher, SNI)",
            )
        item = item.__cause__ or item.__context__
    return None
