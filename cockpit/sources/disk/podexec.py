"""Run one command in a pod over the Kubernetes WebSocket exec API and collect its output.

The WebSocket (channel protocol v4.channel.k8s.io) is the client's own `WSClient`,
opened on a URL built here: `kubernetes.stream.stream` would need CoreV1Api's
`connect_get_namespaced_pod_exec`, and importing CoreV1Api costs 22 MB for good (see
cockpit/sources/kube/raw.py).  An `ExecClient` runs one exec at a time under a lock.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.stream.ws_client import websocket_call

from cockpit.errors import SourceError
from cockpit.sources.kube.paths import namespaced_path
from cockpit.textsafe import one_line

_HANDSHAKE = re.compile(r"Handshake status (\d{3})")


@dataclass(frozen=True)
class ExecResult:
    code: int  # the command's exit status
    out: str
    err: str


def exec_refusal(exc: ApiException, namespace: str, pod: str) -> SourceError:
    """An API error at the exec handshake, in words with a hint (RBAC for a 403)."""
    status = exc.status or 0
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
    # The WebSocket client reports a refused upgrade as status 0, "Handshake status 403
    # Forbidden -+-+- {headers} -+-+- b'{json status}'".
    text = str(exc.reason or "")
    if not status and (m := _HANDSHAKE.search(text)):
        status = int(m.group(1))
        body = body or text[text.find("{", text.rfind("-+-+-")) :].rstrip("'")
    try:
        message = str(json.loads(body or "{}").get("message") or exc.reason or "")
    except (ValueError, AttributeError):
        message = one_line(str(body or exc.reason or ""), 200)
    if status == 403:
        return SourceError(
            f"exec into {pod} forbidden: {message}".strip(),
            f"the cockpit's identity needs RBAC `create` on `pods/exec` in namespace "
            f"{namespace}; check with: kubectl auth can-i create pods/exec -n {namespace}",
        )
    if status == 404:
        return SourceError(f"pod {pod} not found", "it may have been replaced; wait for it")
    return SourceError(
        f"exec into {pod} failed: HTTP {status} {message}".strip(),
        "check that the pod is running and its container has a shell",
    )


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode("utf-8", "replace")
    return data or ""


class ExecClient:
    """Runs commands in pods of one namespace, one at a time, on a client of its own."""

    def __init__(self, configuration: client.Configuration, namespace: str) -> None:
        self.namespace = namespace
        self._api = client.ApiClient(configuration)
        self._lock = threading.Lock()

    def _open(self, pod: str, argv: list[str], container: str | None, timeout: float | None) -> Any:
        """The exec's WebSocket (bytes, decoded by the caller: a character split across
        two frames must not become two U+FFFD).  Call under the lock."""
        # The query as CoreV1Api.connect_get_namespaced_pod_exec sends it.
        query: list[tuple[str, object]] = [("command", arg) for arg in argv]
        if container:
            query.append(("container", container))
        query += [("stderr", True), ("stdin", False), ("stdout", True), ("tty", False)]
        path = namespaced_path("/api/v1", self.namespace, "pods", pod, "exec")
        _, url, headers, _, _ = self._api.param_serialize(
            "GET", path, query_params=query, header_params={"Accept": "*/*"},
            auth_settings=["BearerToken"],
        )  # fmt: skip
        try:
            # ApiException(status 0, "Handshake status 403 ...") when the upgrade is
            # refused: exec_refusal reads the status from it.
            return websocket_call(
                self._api.configuration,
                "GET",
                url,
                headers=headers,
                _request_timeout=timeout,
                _preload_content=False,
                binary=True,
            )
        except ApiException as exc:
            raise exec_refusal(exc, self.namespace, pod) from exc

    def _run(self, pod: str, argv: list[str], container: str | None, timeout: float) -> ExecResult:
        with self._lock:
            ws = self._open(pod, argv, container, timeout)
            try:
                ws.run_forever(timeout=timeout)
                if ws.is_open():
                    raise SourceError(
                        f"`{argv[0]}` in {pod} did not finish within {timeout:g} s",
                        "the pod may be overloaded; try again later",
                    )
                try:
                    code = ws.returncode  # before the reads, which clear the status channel
                except (KeyError, TypeError, ValueError, IndexError) as exc:
                    raise SourceError(
                        f"exec into {pod}: the API server's status could not be read ({exc})",
                        "the container may have gone away mid-command; try again",
                    ) from exc
                out = _text(ws.read_stdout())
                return ExecResult(code or 0, out, _text(ws.read_stderr()))
            finally:
                ws.close()

    def stream(
        self, pod: str, argv: list[str], container: str | None = None, idle: float = 60.0
    ) -> Iterator[bytes]:
        """The command's stdout as it comes (for a thread: a restore reads a dump this
        way, never whole).  SourceError at the end when it exits non-zero, and when
        nothing arrives for `idle` seconds."""
        with self._lock:
            ws = self._open(pod, argv, container, None)
            err = b""
            try:
                quiet_since = time.monotonic()
                while ws.is_open():
                    ws.update(timeout=1.0)
                    if ws.peek_stdout():
                        quiet_since = time.monotonic()
                        yield bytes(ws.read_stdout())
                    if ws.peek_stderr():
                        err += bytes(ws.read_stderr())[:4096]
                    if time.monotonic() - quiet_since > idle:
                        raise SourceError(
                            f"`{argv[0]}` in {pod} sent nothing for {idle:g} s",
                            "the pod may be overloaded; try again later",
                        )
                rest = ws.read_stdout()
                if rest:
                    yield bytes(rest)
                err += bytes(ws.read_stderr() or b"")[:4096]
                code = ws.returncode
            finally:
                ws.close()
            if code:
                raise SourceError(
                    f"`{' '.join(argv)}` in {pod} failed (exit {code}): "
                    + one_line(_text(err), 300),
                    "look at the file in the pod",
                )

    async def run(
        self, pod: str, argv: list[str], container: str | None = None, timeout: float = 20.0
    ) -> ExecResult:
        """The command's exit status and output; SourceError when it could not run."""
        return await asyncio.to_thread(self._run, pod, argv, container, timeout)

    def close(self) -> None:
        try:
            self._api.close()
        except Exception:
            pass
