"""textual-serve's server with the token guard, bound before its URL is printed.

textual-serve starts one `session command` per browser websocket and relays the
terminal; this subclass adds what it leaves out: the guard (auth.py) on every route,
a socket bound up front (port 0 works, and the printed URL is the real one), and an
access log of method, path and status only, since the entry URL holds the token.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TextIO

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from textual_serve.server import Server

from cockpit.serve import auth
from cockpit.serve.cli import DEFAULT_MAX_SESSIONS

log = logging.getLogger("cockpit.serve")


class PathOnlyAccessLogger(AbstractAccessLogger):
    """aiohttp's `%r` is the request line, query string (and token) included."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s", request.method, request.path, response.status)


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# textual-serve's page asks Google for a web font: a war room off the internet would wait
# on it, and every viewer's address would go to a third party.  Local fonts do.
_REMOTE_STYLESHEET = re.compile(r"<link\b[^>]*href=\"https?://[^\"]*\"[^>]*/?>\s*", re.S)


class LocalOnlyTemplates(jinja2.FileSystemLoader):
    """textual-serve's templates without stylesheets from other origins."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        source, filename, uptodate = super().get_source(environment, template)
        return _REMOTE_STYLESHEET.sub("", source), filename, uptodate


class CockpitServer(Server):
    def __init__(
        self,
        command: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        token: str | None = None,
        mode: str = "READ-ONLY",
        out: TextIO = sys.stdout,
        companions: Sequence[Callable[[], Awaitable[None]]] = (),
        max_sessions: int = DEFAULT_MAX_SESSIONS,
    ) -> None:
        self.socket = listen(host, port)
        bound = self.socket.getsockname()[1]
        public = (public_url or f"http://{url_host(host)}:{bound}").rstrip("/")
        super().__init__(command, host=host, port=bound, title="cockpit", public_url=public)
        self.token = token or auth.new_token()
        self.origin = auth.origin_of(self.public_url)
        self.mode = mode
        self.out = out
        self.companions = companions  # run beside the server, cancelled when it stops
        self._tasks: list[asyncio.Task[None]] = []
        self.max_sessions = max_sessions
        self.sessions = 0  # open browser sessions, each a process of its own

    @property
    def entry_url(self) -> str:
        return f"{self.public_url}/?{auth.TOKEN_PARAM}={self.token}"

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        aiohttp_jinja2.setup(app, loader=LocalOnlyTemplates(self.templates_path))
        app.middlewares.append(auth.guard(self.token, self.origin))
        app.on_response_prepare.append(auth.safety_headers)
        return app

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        if self.sessions >= self.max_sessions:
            print(
                f"cockpit serve: refused a session: {self.sessions} are open, the limit "
                "(--max-sessions) is reached; close a tab or raise the limit",
                file=self.out,
                flush=True,
            )
            return web.Response(
                status=503, text=f"{self.sessions} sessions are open: the server's limit."
            )
        self.sessions += 1
        try:
            return await super().handle_websocket(request)
        finally:
            self.sessions -= 1

    async def on_startup(self, app: web.Application) -> None:
        # The only place the token is written: stdout, once, for the person who started it.
        print(f"cockpit serve: {self.mode} sessions; open {self.entry_url}", file=self.out)
        if not is_loopback(self.host):
            print(
                f"cockpit serve: listening on {self.host}, beyond this machine, over plain "
                "HTTP: the token crosses the network readable (put TLS in front)",
                file=self.out,
            )
        print("cockpit serve: Ctrl+C stops the server and its sessions", file=self.out)
        self.out.flush()
        self._tasks = [asyncio.create_task(companion()) for companion in self.companions]

    async def on_shutdown(self, app: web.Application) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def serve(self, debug: bool = False) -> None:
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, self.request_exit)
        web.run_app(
            self._make_app(),
            sock=self.socket,
            handle_signals=False,
            loop=loop,
            print=None,
            access_log_class=PathOnlyAccessLogger,
        )
