"""Running the simulated cluster: `SimCluster` on a background thread with its own event
loop (a synchronous Kubernetes client called from the loop that serves it would hang),
and `run_foreground` for `cockpit sim`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from aiohttp import web

from cockpit.sim.controller import Controller
from cockpit.sim.metrics import Metrics
from cockpit.sim.pace import Pace
from cockpit.sim.prom_exposition import scrape_config
from cockpit.sim.prom_server import PromServer
from cockpit.sim.rbac import USER, Authorizer
from cockpit.sim.scenarios import NAMESPACE, SCENARIOS, seed
from cockpit.sim.server import ApiServer
from cockpit.sim.store import Store
from cockpit.sim.traffic import Upstreams

CONTEXT = "cockpit-sim"
TOKEN = "sim-token-not-a-secret"

T = TypeVar("T")


def _optional_logbook(scenario: str, pace: Pace, clock: Callable[[], float], seed_: int) -> Any:
    try:
        from cockpit.sim.logs import LogBook
    except ImportError:  # the log simulation is another module; run without it
        return None
    return LogBook(scenario, pace, clock=clock, seed=seed_)


def _optional_exec(scenario: str, clock: Callable[[], float], seed_: int) -> Any:
    try:
        from cockpit.sim.exec import ExecServer
    except ImportError:
        return None
    return ExecServer(scenario, clock=clock, seed=seed_)


def kubeconfig_text(url: str, token: str = TOKEN, namespace: str = NAMESPACE) -> str:
    # JSON is valid YAML, and needs no YAML library to write correctly.
    import json

    return (
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": CONTEXT, "cluster": {"server": url}}],
                "users": [{"name": USER, "user": {"token": token}}],
                "contexts": [
                    {
                        "name": CONTEXT,
                        "context": {"cluster": CONTEXT, "user": USER, "namespace": namespace},
                    }
                ],
                "current-context": CONTEXT,
                "preferences": {},
            },
            indent=2,
        )
        + "\n"
    )


class SimCluster:
    """A simulated Excel Unified cluster serving the Kubernetes API on 127.0.0.1.

    >>> with SimCluster("incident", pace=Pace.fast()) as sim:
    ...     sim.write_kubeconfig(tmp / "kubeconfig")
    """

    def __init__(
        self,
        scenario: str = "healthy",
        pace: Pace | None = None,
        large_size: int = 5000,
        port: int = 0,
        host: str = "127.0.0.1",
        seed: int = 0,
        token: str = TOKEN,
    ) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
        self.scenario = scenario
        self.pace = pace or Pace.demo()
        self.large_size = large_size
        self.host = host
        self.port = port
        self.seed = seed
        self.token = token
        self.namespace = NAMESPACE
        self.url = ""
        # The app pods' Prometheus metrics (prom_server.py): /sd, /metrics/pods/<pod>, ...
        self.metrics_url = ""
        self.prom: PromServer | None = None
        self.clock: Callable[[], float] = time.time
        self.store: Store | None = None
        self.controller: Controller | None = None
        self.server: ApiServer | None = None
        self.logbook: Any = None
        self.execserver: Any = None
        self.authz = Authorizer()
        self.broken: dict[str, str] = {}  # behaviour -> pod name (incident)
        self.started_in_s = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._runner: web.AppRunner | None = None
        self._stop_event: asyncio.Event | None = None
        self._controller_task: asyncio.Task | None = None

    # ---- lifecycle --------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> SimCluster:
        if self._thread is not None:
            return self
        t0 = time.perf_counter()
        self._thread = threading.Thread(
            target=self._thread_main, name=f"sim-cluster-{id(self)}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the simulated cluster did not start in time")
        if self._error is not None:
            self._thread.join(5)
            self._thread = None
            raise RuntimeError("the simulated cluster failed to start") from self._error
        self.started_in_s = time.perf_counter() - t0
        return self

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._boot())
        except BaseException as e:  # report to start() rather than die silently
            self._error = e
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()

    async def _boot(self) -> None:
        store = Store()
        store.clock = self.clock
        ctl = Controller(store, self.pace, self.scenario, self.clock, self.seed)
        seeder = seed(ctl, self.scenario, self.large_size)
        self.broken = {b: p["metadata"]["name"] for b, p in seeder.broken.items()}
        store.start_history()
        for key in ("pods",):  # serialise the big lists once now, not on the first request
            for obj in store.list(key):
                store.raw(key, obj)
        metrics = Metrics(store, self.scenario, lambda: ctl.pace, self.clock)
        self.logbook = _optional_logbook(self.scenario, self.pace, self.clock, self.seed)
        if self.logbook is not None:
            # nginx's access lines name the app pods it proxies to, as they come and go.
            upstreams = Upstreams(self.clock, NAMESPACE)
            upstreams.attach(store)
            self.logbook.upstreams = upstreams
        self.execserver = _optional_exec(self.scenario, self.clock, self.seed)
        server = ApiServer(
            store, ctl, self.authz, metrics, self.token, self.logbook, self.execserver
        )
        app = server.make_app()
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        await site.start()
        sockets = [s for s in (runner.addresses or [])]
        port = sockets[0][1] if sockets else self.port
        self.port = port
        self.url = f"http://{self.host}:{port}"
        server.server_address = f"{self.host}:{port}"
        self.store, self.controller, self.server, self._runner = store, ctl, server, runner
        self.prom = PromServer(store, self.logbook, metrics, self.clock, NAMESPACE, self.host)
        self.metrics_url = await self.prom.start()
        self._stop_event = asyncio.Event()
        ctl.step()  # settle the seeded state before the first client looks
        self._controller_task = asyncio.get_running_loop().create_task(
            ctl.run(self._stop_event), name="sim-controller"
        )

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            fut = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
            try:
                fut.result(timeout)
            except (concurrent.futures.TimeoutError, RuntimeError):
                pass
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None
        self._loop = None

    async def _shutdown(self) -> None:
        if self._stop_event is not None:
            self._stop_event.set()
        # Log follows end cleanly (a complete chunked response) when the book closes;
        # whatever is still open after that is cancelled by the server's shutdown.
        close = getattr(self.logbook, "close", None)
        if close is not None:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        if self.prom is not None:
            await self.prom.close()
        if self.server is not None:
            await self.server.shutdown()
        if self._controller_task is not None:
            self._controller_task.cancel()
            await asyncio.gather(self._controller_task, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()

    def __enter__(self) -> SimCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # ---- clients ----------------------------------------------------------------------

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(kubeconfig_text(self.url, self.token, self.namespace))
        p.chmod(0o600)
        return p

    def write_prometheus_config(
        self,
        path: str | os.PathLike[str],
        rule_files: Sequence[str] = (),
        scrape_interval: str = "5s",
        evaluation_interval: str = "5s",
    ) -> Path:
        """A prometheus.yml that scrapes this cluster's app pods and memory gauges."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(
            scrape_config(self.metrics_url, list(rule_files), scrape_interval, evaluation_interval)
        )
        return p

    def client_configuration(self) -> Any:
        """A `kubernetes.client.Configuration` pointed at this cluster."""
        from kubernetes import client

        cfg = client.Configuration()
        cfg.host = self.url
        cfg.api_key = {"authorization": f"Bearer {self.token}"}
        cfg.verify_ssl = False
        return cfg

    # ---- running code on the cluster's loop -------------------------------------------

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        """Run `fn` on the server's loop thread (where the store lives) and return."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the simulated cluster is not running")

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout)

    def get_object(self, resource: str, name: str, namespace: str | None = None) -> dict | None:
        """For debugging: the stored object (`resource` like "pods", "deployments.apps")."""
        assert self.store is not None
        store = self.store
        ns = self.namespace if namespace is None else namespace
        return self.call(lambda: store.get(resource, ns, name))

    def list_objects(self, resource: str, namespace: str | None = None) -> list[dict]:
        assert self.store is not None
        store = self.store
        return self.call(lambda: list(store.list(resource, namespace)))

    # ---- test hooks -------------------------------------------------------------------

    def deny(
        self, verb: str, resource: str, namespace: str | None = None, subresource: str | None = None
    ) -> None:
        """Forbid `verb` on `resource` ("pods", "deployments" or "deployments.apps"; "*"
        for all), in one namespace or all (None), for the resource and all its
        subresources (None) or one subresource ("scale", "exec", "log", ...)."""
        self.authz.deny(verb, resource, namespace, subresource)

    def allow_all(self) -> None:
        self.authz.allow_all()

    def fail_requests(self, status: int = 500, path_prefix: str | None = None) -> None:
        """Answer requests whose path starts with `path_prefix` (all: None) with `status`."""
        assert self.server is not None
        self.server.faults.fail(status, path_prefix)

    def hang_requests(self, path_prefix: str | None = None) -> None:
        """Hold requests open until `clear_faults()` or `stop()`."""
        assert self.server is not None
        self.server.faults.hang(path_prefix)

    def clear_faults(self) -> None:
        assert self.server is not None
        self.server.faults.clear()

    def set_pace(self, pace: Pace) -> None:
        """Change the pace of the controllers and metrics from now on (logs keep theirs
        unless the log book exposes a `pace` attribute)."""
        self.pace = pace
        ctl = self.controller
        if ctl is not None:
            self.call(lambda: setattr(ctl, "pace", pace))
        if self.logbook is not None and hasattr(self.logbook, "pace"):
            self.logbook.pace = pace

    def inject_log_line(
        self, pod: str, container: str, text: str, namespace: str | None = None
    ) -> None:
        """Add a line to a container's log (tests use it for hostile text)."""
        if self.logbook is None:
            raise RuntimeError("the log simulation (cockpit.sim.logs) is not available")
        ns = self.namespace if namespace is None else namespace
        book = self.logbook
        self.call(lambda: book.inject(ns, pod, container, text))

    def set_behaviour(self, pod: str, behaviour: str | None, namespace: str | None = None) -> None:
        """Make a running pod crash-loop ("crashloop"), get OOMKilled ("oomkill") or
        recover (None), as the incident scenario does to its pods."""
        from cockpit.sim.controller import BEHAVIOUR
        from cockpit.sim.objects import clone

        assert self.store is not None
        store = self.store
        ns = self.namespace if namespace is None else namespace

        def apply() -> None:
            cur = store.get("pods", ns, pod)
            if cur is None:
                raise KeyError(pod)
            new = clone(cur)
            ann = new["metadata"].setdefault("annotations", {})
            if behaviour is None:
                ann.pop(BEHAVIOUR, None)
            else:
                ann[BEHAVIOUR] = behaviour
            store.update("pods", new)

        self.call(apply)


# ---- `cockpit sim` ------------------------------------------------------------------


def default_kubeconfig_path() -> Path:
    return Path(tempfile.gettempdir()) / f"cockpit-sim-{os.getuid()}" / "kubeconfig"


def run_foreground(
    scenario: str = "incident",
    port: int = 0,
    kubeconfig_path: str | os.PathLike[str] | None = None,
    pace: Pace | None = None,
    *,
    large_size: int = 5000,
    out: TextIO | None = None,
    rule_files: Sequence[str] = (),
) -> int:
    """Serve the simulated cluster until Ctrl-C or SIGTERM; returns an exit status."""
    stream = out or sys.stdout
    path = Path(kubeconfig_path) if kubeconfig_path else default_kubeconfig_path()
    sim = SimCluster(scenario, pace=pace or Pace.demo(), large_size=large_size, port=port)
    stop = threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        sim.start()
        sim.write_kubeconfig(path)
        print(f"Simulated Excel Unified cluster ({scenario}) serving at {sim.url}", file=stream)
        print(f"kubeconfig: {path}  (context {CONTEXT}, namespace {sim.namespace})", file=stream)
        print(f"Try:  KUBECONFIG={path} kubectl get pods -n {sim.namespace}", file=stream)
        prom = sim.write_prometheus_config(path.parent / "prometheus.yml", rule_files)
        print(f"Prometheus metrics: {sim.metrics_url} (targets: /sd)", file=stream)
        print(f"prometheus.yml: {prom}", file=stream)
        print(
            f"Run:  prometheus --config.file={prom} "
            f"--storage.tsdb.path={path.parent / 'prometheus-data'} "
            "--web.listen-address=127.0.0.1:9090",
            file=stream,
        )
        print("Press Ctrl-C to stop.", file=stream, flush=True)
        while not stop.wait(0.5):
            if not sim.running:
                print("the simulated cluster stopped unexpectedly", file=sys.stderr)
                return 1
        return 0
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("Simulated cluster stopped.", file=stream, flush=True)
