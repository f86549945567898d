"""Pod exec for the simulated cluster: the Kubernetes WebSocket channel protocol.

`GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec?command=...` upgrades to a WebSocket
whose subprotocol names the framing: each binary message is one channel byte (0 stdin,
1 stdout, 2 stderr, 3 error/status, 4 resize; v5 adds 255 "close channel") followed by the
data; `base64.channel.k8s.io` uses text messages with an ASCII channel digit and base64
data.  The command runs against the pod's simulated filesystem (`filesystem.py`), then the
server sends stdout, stderr and - before closing, because the python client reads its
`returncode` from it - the final `Status` on channel 3.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import posixpath
import time
from collections.abc import Callable, Mapping

from aiohttp import WSMsgType, web

from cockpit.sim.exec_commands import run_argv
from cockpit.sim.exec_shell import Ctx, Result
from cockpit.sim.filesystem import FileSystems
from cockpit.sim.logs import LogError, pick_container, status_response

# Best first.  "" is what a client that asks for no subprotocol gets (v1 framing).
PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io", "base64.channel.k8s.io")
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
FRAME = 32 * 1024
MAX_STDIN = 1024 * 1024
MAX_SLEEP_S = 60.0
# A container runtime takes tens of milliseconds to start an exec'd process, and
# kubectl relies on it: client-go registers its stdout/stderr streams only after it has
# started reading, and drops a frame that comes first ("Unknown stream id 1, discarding
# message"; kubernetes/kubernetes#124571).  Answering at once lost kubectl's output on a
# loaded machine, so the first frame waits this long, as a real node's would.
EXEC_START_S = 0.05
# Commands that read stdin when given no file operand (then we wait for the client's stdin).
_STDIN_READERS = {"cat": 0, "wc": 0, "sort": 0, "head": 0, "tail": 0, "grep": 1, "sh": 0, "bash": 0}


def choose_protocol(offered: str) -> str | None:
    """The best subprotocol the client offered, "" for none offered, None for no match."""
    wanted = [p.strip() for p in offered.split(",") if p.strip()]
    if not wanted:
        return ""
    for proto in PROTOCOLS:
        if proto in wanted:
            return proto
    return None


def exit_status(code: int, proto: str) -> bytes | None:
    """The channel-3 message for an exit code (v4/v5: a Status; older: text on failure)."""
    if proto in ("v4.channel.k8s.io", "v5.channel.k8s.io"):
        if code == 0:
            body: dict = {"metadata": {}, "status": "Success"}
        else:
            body = {
                "metadata": {},
                "status": "Failure",
                "message": f"command terminated with non-zero exit code: exit status {code}",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
            }
        return json.dumps(body).encode()
    if code == 0:
        return None
    return f"command terminated with non-zero exit code: exit status {code}".encode()


def _reads_stdin(argv: list[str]) -> bool:
    name = posixpath.basename(argv[0])
    if name not in _STDIN_READERS:
        return False
    if name in ("sh", "bash"):
        return "-c" not in argv[1:]
    operands = [a for a in argv[1:] if not a.startswith("-")]
    return len(operands) <= _STDIN_READERS[name]


class ExecServer:
    """Serves `.../pods/{name}/exec` over the Kubernetes WebSocket channel protocol."""

    def __init__(
        self, scenario: str, clock: Callable[[], float] = time.time, seed: int = 0
    ) -> None:
        self.scenario = scenario
        self.clock = clock
        self.seed = seed
        self.filesystems = FileSystems(scenario, clock=clock, seed=seed)

    def run(
        self, pod: dict, container: str, argv: list[str], stdin: str = "", tty: bool = False
    ) -> tuple[Result, float]:
        """Run a command in a pod without any network: (result, seconds it slept)."""
        ctx = Ctx(
            fs=self.filesystems.get(pod),
            pod=pod,
            container=container,
            scenario=self.scenario,
            now=self.clock(),
            tty=tty,
        )
        result = run_argv(argv, ctx, stdin)
        return result, ctx.sleep

    async def serve(
        self,
        request: web.Request,
        namespace: str,
        name: str,
        get_pod: Callable[[], dict | None],
    ) -> web.StreamResponse:
        pod = get_pod()
        if pod is None:
            return status_response(
                404, f'pods "{name}" not found', "NotFound", name=name, kind="pods"
            )
        argv = request.query.getall("command", [])
        try:
            container = pick_container(pod, request.query.get("container") or None)
        except LogError as exc:
            return status_response(exc.code, str(exc), exc.reason)
        if not argv:
            return status_response(400, "you must specify at least 1 command", "BadRequest")
        phase = pod.get("status", {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            return status_response(
                400,
                f"cannot exec into a container in a completed pod; current phase is {phase}",
                "BadRequest",
            )
        if not _running(pod, container):
            return status_response(400, f'container not found ("{container}")', "BadRequest")
        proto = choose_protocol(request.headers.get("Sec-WebSocket-Protocol", ""))
        upgrade = request.headers.get("Upgrade", "").lower()
        if upgrade != "websocket" or proto is None:
            return status_response(
                400,
                "the simulated cluster speaks only the WebSocket exec protocol "
                f"({', '.join(PROTOCOLS)}); upgrade: {upgrade or 'none'}",
                "BadRequest",
            )
        ws = web.WebSocketResponse(
            protocols=(proto,) if proto else (), autoping=True, max_msg_size=MAX_STDIN * 2
        )
        await ws.prepare(request)
        q = request.query
        session = _Session(
            self, ws, proto, pod, container, argv, _flag(q, "tty"), _flag(q, "stdin")
        )
        # Streams the client did not ask for are not sent (kubectl always asks for both).
        session.streams = {STDOUT: _flag(q, "stdout", True), STDERR: _flag(q, "stderr", True)}
        await session.run()
        return ws


def _flag(query: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = query.get(name, "").lower()
    return default if raw == "" else raw in ("true", "1")


def _running(pod: dict, container: str) -> bool:
    for s in pod.get("status", {}).get("containerStatuses") or []:
        if s.get("name") == container:
            return "running" in (s.get("state") or {})
    return False


class _Session:
    """One exec: read stdin (if the command wants it), run, send output and status."""

    def __init__(
        self,
        server: ExecServer,
        ws: web.WebSocketResponse,
        proto: str,
        pod: dict,
        container: str,
        argv: list[str],
        tty: bool,
        want_stdin: bool,
    ) -> None:
        self.server = server
        self.ws = ws
        self.proto = proto
        self.pod = pod
        self.container = container
        self.argv = argv
        self.tty = tty
        self.want_stdin = want_stdin
        self.stdin = bytearray()
        self.stdin_done = asyncio.Event()
        self.gone = asyncio.Event()
        self.streams = {STDOUT: True, STDERR: True}

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            if self.want_stdin and _reads_stdin(self.argv):
                await self.stdin_done.wait()
            if self.gone.is_set():
                return
            text = self.stdin.decode("utf-8", "replace")
            result, slept = self.server.run(self.pod, self.container, self.argv, text, self.tty)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.gone.wait(), EXEC_START_S + min(slept, MAX_SLEEP_S))
            if self.gone.is_set():
                return
            out, err = result.out, result.err
            if self.tty:  # a terminal merges stderr into stdout and turns \n into \r\n
                out = (out + err).replace("\r\n", "\n").replace("\n", "\r\n")
                err = ""
            if self.streams[STDOUT]:
                await self._send(STDOUT, out.encode())
            if self.streams[STDERR]:
                await self._send(STDERR, err.encode())
            status = exit_status(result.code, self.proto)
            if status is not None:
                await self._send(ERROR, status)
            await self.ws.close()
        except ConnectionError:
            pass  # the client left mid-way
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _send(self, channel: int, data: bytes) -> None:
        for i in range(0, len(data), FRAME):
            part = data[i : i + FRAME]
            if self.proto == "base64.channel.k8s.io":
                await self.ws.send_str(str(channel) + base64.b64encode(part).decode())
            else:
                await self.ws.send_bytes(bytes([channel]) + part)

    async def _read(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type == WSMsgType.BINARY:
                    data = msg.data
                elif msg.type == WSMsgType.TEXT:
                    raw = msg.data
                    data = (
                        bytes([int(raw[0])]) + base64.b64decode(raw[1:])
                        if self.proto == "base64.channel.k8s.io" and raw[:1].isdigit()
                        else raw.encode()
                    )
                else:
                    break
                if not data:
                    continue
                channel, payload = data[0], data[1:]
                if channel == STDIN and len(self.stdin) < MAX_STDIN:
                    self.stdin += payload[: MAX_STDIN - len(self.stdin)]
                elif channel == CLOSE and payload[:1] == bytes([STDIN]):
                    self.stdin_done.set()
        finally:
            self.gone.set()
            self.stdin_done.set()
