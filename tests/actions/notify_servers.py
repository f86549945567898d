"""Stand-ins for the incident channel, over real sockets: a Slack incoming webhook
(aiohttp) and an SMTP server with STARTTLS and AUTH (aiosmtpd, certificate from trustme).

Import the fixtures into a test module:  from tests.actions.notify_servers import ...
    slack_server   .url(token) -> a webhook URL; token "gone" answers 404 no_service,
                   any other answers 200 "ok"; .posts: (path, JSON body) received
    smtp_server    .host/.port/.ca_file/.user/.password; .messages: parsed emails,
                   .envelopes: (mail_from, rcpt_tos); STARTTLS and AUTH required
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

SMTP_USER = "cockpit"
SMTP_PASSWORD = "s3cret-Pa55word"
WEBHOOK_SECRET = "xoxSECRETtokenABCDEF123456"


class SlackStandIn:
    def __init__(self) -> None:
        self.posts: list[tuple[str, Any]] = []
        self.base = ""

    def url(self, token: str = WEBHOOK_SECRET) -> str:
        return f"{self.base}/services/T0AB12CD/B0EF34GH/{token}"

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.posts.append((request.path, body))
        if request.path.endswith("/gone"):
            return web.Response(status=404, text="no_service")
        return web.Response(status=200, text="ok")


@pytest.fixture
async def slack_server() -> AsyncIterator[SlackStandIn]:
    stand_in = SlackStandIn()
    app = web.Application()
    app.router.add_post("/services/{team}/{bot}/{token}", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    stand_in.base = f"http://127.0.0.1:{port}"
    yield stand_in
    await runner.cleanup()


@dataclass
class Capture:
    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 2.0.0 Ok: queued as NOTIFY42"


def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == SMTP_USER.encode()
        and data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpStandIn:
    host: str
    port: int
    ca_file: Path
    capture: Capture
    user: str = SMTP_USER
    password: str = SMTP_PASSWORD

    @property
    def messages(self) -> list[EmailMessage]:
        return self.capture.messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpStandIn]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    capture = Capture()
    controller = Controller(
        capture,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_ctx,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticate,
    )
    controller.start()
    try:
        yield SmtpStandIn("127.0.0.1", controller.port, ca_file, capture)
    finally:
        controller.stop()
