"""Posting to a Slack incoming webhook, and showing its URL without its secret.

The webhook's URL is the credential (anyone holding it can post to the channel), so it
is shown as `https://hooks.slack.com/services/T…/****` and never written anywhere.
Slack answers a good post with HTTP 200 and the body `ok`; anything else (404
`no_service`, 403 `invalid_token`, 400 `invalid_payload`, ...) is a failed outcome
with the status and the start of the body.
"""

from __future__ import annotations

import re

import httpx

from actions.notify.outcome import ChannelOutcome
from cockpit.config import redact
from cockpit.errors import describe
from cockpit.sources.http_clients import client_off_loop
from cockpit.textsafe import one_line

_URL = re.compile(r"([a-z][a-z0-9+.-]*://)([^/?#]*)([^?#]*)", re.IGNORECASE)


def mask_webhook(url: str) -> str:
    """The scheme, host and first path segment; the rest is the secret."""
    match = _URL.match(url.strip())
    if match is None:
        return "****"
    scheme, netloc, path = match.groups()
    host = netloc.rpartition("@")[2]  # never show user:password@
    segments = [s for s in path.split("/") if s]
    shown = f"{scheme}{host}"
    if segments:
        shown += f"/{segments[0]}"
    if len(segments) > 1:
        shown += f"/{segments[1][:1]}…"
    return shown + "/****"


async def post(url: str, text: str, timeout: float) -> ChannelOutcome:
    """POST {"text": text}; ok only on HTTP 200 with the body "ok" (Slack's answer)."""
    recipient = f"Slack webhook {mask_webhook(url)}"
    try:
        # Made off the loop (the CA store): sending a notification holds no key press.
        made = await client_off_loop(httpx.AsyncClient, timeout=timeout, follow_redirects=False)
        async with made as client:
            response = await client.post(url, json={"text": text})
    except httpx.HTTPError as exc:
        message, hint = describe(exc)
        detail = redact(f"{type(exc).__name__}: {message}", (url,))
        return ChannelOutcome("slack", recipient, False, None, "", detail, hint)
    body = one_line(redact(response.text, (url,)), 200)
    if response.status_code == 200 and response.text.strip() == "ok":
        return ChannelOutcome("slack", recipient, True, response.status_code, body)
    return ChannelOutcome(
        "slack",
        recipient,
        False,
        response.status_code,
        body,
        f"Slack answered HTTP {response.status_code} {body!r}",
        "check notify.slack_webhook_url (a revoked or mistyped webhook answers 404/403)",
    )
