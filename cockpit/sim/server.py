"""The HTTP side of the simulated cluster: an aiohttp app speaking the Kubernetes API.

One catch-all route parses `/api/v1/...` and `/apis/<group>/<version>/...` paths into
(resource, namespace, name, subresource), authorizes the verb, then dispatches to
get / list / watch / create / update / patch / delete and the subresources.  Logs and
exec are delegated to `logs.LogBook` and `exec.ExecServer`.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import json
import logging
import random
import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

from aiohttp import web
from aiohttp.client_exceptions import ClientConnectionResetError

from cockpit.sim import discovery, protobuf, tables
from cockpit.sim.controller import Controller
from cockpit.sim.defaults import default_pod_spec, prepare_create, strip_nulls
from cockpit.sim.errors import (
    ApiError,
    already_exists,
    bad_request,
    conflict,
    invalid,
    modified_conflict,
    not_found,
    success_body,
)
from cockpit.sim.faults import Faults
from cockpit.sim.kinds import Kind
from cockpit.sim.metrics import Metrics
from cockpit.sim.objects import clone, new_uid, suffix, ts
from cockpit.sim.patch import apply_patch
from cockpit.sim.rbac import Authorizer
from cockpit.sim.selectors import parse_field_selector, parse_label_selector, selector_string
from cockpit.sim.service_proxy import ServiceProxy
from cockpit.sim.store import Expired, Store, Watcher
from cockpit.sim.views import VIEWS

log = logging.getLogger(__name__)

JSON = "application/json"
PUBLIC = ("/version", "/healthz", "/livez", "/readyz")
_NOT_FOUND = "the server could not find the requested resource"
_STOP = object()  # pushed into watch queues when the server stops
_SERVER_FIELDS = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
)
_SERVICE_PROXY = re.compile(r"/api/v1/namespaces/[^/]+/services/[^/]+/proxy(/|$)")
_PROXY_VERBS = {
    "GET": "get",
    "HEAD": "get",
    "POST": "create",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
    "OPTIONS": "get",
}
_SCALABLE = {"deployments.apps", "replicasets.apps", "statefulsets.apps"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def respond(obj: Any, status: int = 200, content_type: str = JSON) -> web.Response:
    return web.Response(body=_dumps(obj), status=status, headers={"Content-Type": content_type})


def error_response(err: ApiError) -> web.Response:
    return respond(err.body, err.code)


def _encode_continue(rv: int, after: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(after)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[str, str]:
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        ns, name = data["start"]
        return str(ns), str(name)
    except (ValueError, KeyError, TypeError) as e:
        raise bad_request("continue key is not valid: " + str(e)) from e


class Request:
    """A parsed resource request."""

    def __init__(
        self, kind: Kind, namespace: str | None, name: str | None, sub: str | None, verb: str
    ) -> None:
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.sub = sub
        self.verb = verb


class ApiServer:
    def __init__(
        self,
        store: Store,
        controller: Controller,
        authz: Authorizer,
        metrics: Metrics,
        token: str,
        logbook: Any = None,
        execserver: Any = None,
        history_bookmark_s: float = 30.0,
    ) -> None:
        self.store = store
        self.ctl = controller
        self.authz = authz
        self.metrics = metrics
        self.token = token
        self.logbook = logbook
        self.execserver = execserver
        self.faults = Faults()
        self.service_proxy = ServiceProxy(store, controller.scenario, controller.clock)
        self.bookmark_s = history_bookmark_s
        self.disconnect_check_s = 5.0  # how often an idle watch looks for a gone client
        self.stopping: asyncio.Event | None = None
        self.server_address = "127.0.0.1:0"
        self._tasks: set[asyncio.Task] = set()
        self._watchers: set[Watcher] = set()
        self.inflight = 0  # requests being answered, not counting streams
        # Requests by kind since start (watch / log / exec / proxy / other), for the
        # benchmarks of the load the cockpit puts on an API server.
        self.requests: Counter[str] = Counter()
        controller.api_busy = lambda: self.inflight > 0

    @property
    def clock(self) -> Callable[[], float]:
        return self.ctl.clock

    # ---- app and middleware ---------------------------------------------------------

    def make_app(self) -> web.Application:
        self.stopping = asyncio.Event()
        app = web.Application(middlewares=[self._middleware], client_max_size=32 * 2**20)
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        q = request.query
        streaming = (
            q.get("watch") in ("true", "1")
            or "/watch/" in request.path
            or request.path.endswith("/exec")
            or (request.path.endswith("/log") and q.get("follow") in ("true", "1"))
            or _SERVICE_PROXY.match(request.path) is not None  # a slow app is not API work
        )
        self.requests[_request_kind(request, streaming)] += 1
        counted = False
        try:
            fault = self.faults.match(request.path)
            if fault is not None:
                if fault.kind == "hang":
                    await self._hold(fault)
                    if self.stopping is not None and self.stopping.is_set():
                        raise ApiError(
                            503, "the simulated cluster is shutting down", "ServiceUnavailable"
                        )
                else:
                    raise ApiError(fault.status, f"simulated failure (HTTP {fault.status})")
            if not request.path.startswith(PUBLIC):
                self._authenticate(request)
            if not streaming:  # held (hung) requests and streams do not hold up controllers
                self.inflight += 1
                counted = True
            return await handler(request)
        except ApiError as e:
            return error_response(e)
        except web.HTTPException:
            raise
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as e:
            log.exception("simulated apiserver failed on %s %s", request.method, request.path)
            return error_response(ApiError(500, f"Internal error occurred: {e}"))
        finally:
            if counted:
                self.inflight -= 1
            if task is not None:
                self._tasks.discard(task)

    async def _hold(self, fault: Any) -> None:
        while self.faults.active(fault) and not (self.stopping and self.stopping.is_set()):
            await asyncio.sleep(0.02)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        if not header:
            # kubectl (clientcmd) sends no credentials over plain http: like the old
            # insecure port, an anonymous request here acts as the sim's admin user.
            return
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or token.strip() != self.token:
            raise ApiError(401, "Unauthorized", "Unauthorized")

    async def shutdown(self) -> None:
        """End watches, held requests and log follows, so the runner can stop at once."""
        if self.stopping is not None:
            self.stopping.set()
        for w in list(self._watchers):
            w.queue.put_nowait(_STOP)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=0.3)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=1.0)

    # ---- routing --------------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        segs = [unquote(s) for s in path.strip("/").split("/") if s]
        if request.method == "GET":
            simple = self._simple_get(path, segs)
            if simple is not None:
                return simple
        if segs[:2] == ["api", "v1"] and len(segs) > 2:
            if len(segs) > 6 and segs[2] == "namespaces" and segs[4:7:2] == ["services", "proxy"]:
                return await self._service_proxy(request, segs[3], segs[5], segs[7:])
            return await self._resource(request, "", "v1", segs[2:])
        if len(segs) > 3 and segs[0] == "apis":
            return await self._resource(request, segs[1], segs[2], segs[3:])
        raise ApiError(404, _NOT_FOUND, "NotFound")

    def _simple_get(self, path: str, segs: list[str]) -> web.Response | None:
        if path == "/version":
            return respond(discovery.VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok", content_type="text/plain")
        if path == "/api":
            return respond(discovery.api_versions(self.server_address))
        if path == "/apis":
            return respond(discovery.api_group_list())
        if path == "/api/v1":
            return respond(discovery.resource_list("", "v1"))
        if path == "/openapi/v3":
            return respond(discovery.openapi_root())
        if path.startswith("/openapi/v3/"):
            rest = segs[2:]
            gv = (
                ("", rest[1])
                if rest[:1] == ["api"] and len(rest) == 2
                else ((rest[1], rest[2]) if rest[:1] == ["apis"] and len(rest) == 3 else None)
            )
            doc = discovery.openapi_group_version(*gv) if gv else None
            if doc is None:
                raise ApiError(404, _NOT_FOUND, "NotFound")
            return respond(doc)
        if len(segs) == 2 and segs[0] == "apis":
            doc = discovery.api_group(segs[1])
            if doc is None:
                raise ApiError(404, _NOT_FOUND, "NotFound")
            return respond(doc)
        if len(segs) == 3 and segs[0] == "apis":
            doc = discovery.resource_list(segs[1], segs[2])
            if doc is None:
                raise ApiError(404, _NOT_FOUND, "NotFound")
            return respond(doc)
        return None

    def _parse(self, request: web.Request, group: str, version: str, segs: list[str]) -> Request:
        watch_path = False
        if segs and segs[0] == "watch":
            watch_path = True
            segs = segs[1:]
        ns: str | None = None
        if (
            len(segs) >= 3
            and segs[0] == "namespaces"
            and not (group == "" and segs[2] in ("status", "finalize"))
        ):
            ns = segs[1]
            segs = segs[2:]
        if not segs or len(segs) > 3:
            raise ApiError(404, _NOT_FOUND, "NotFound")
        kind = discovery.resolve(group, version, segs[0])
        if kind is None or (ns is not None and not kind.namespaced):
            raise ApiError(404, _NOT_FOUND, "NotFound")
        name = segs[1] if len(segs) > 1 else None
        sub = segs[2] if len(segs) > 2 else None
        if sub is not None and kind.sub(sub) is None:
            raise ApiError(404, _NOT_FOUND, "NotFound")
        if kind.namespaced and ns is None and (name is not None or request.method != "GET"):
            raise ApiError(404, _NOT_FOUND, "NotFound")  # only reads span all namespaces
        method = request.method
        q = request.query
        if method == "GET":
            if name is None:
                verb = "watch" if watch_path or q.get("watch") in ("true", "1") else "list"
            else:
                verb = "watch" if watch_path else "get"
        elif method == "POST":
            verb = "create"
        elif method == "PUT":
            verb = "update"
        elif method == "PATCH":
            verb = "patch"
        elif method == "DELETE":
            verb = "delete" if name is not None else "deletecollection"
        else:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        if sub == "exec":
            verb = "create"  # both the websocket GET and the POST need create on pods/exec
        if verb not in kind.verbs and sub is None:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        return Request(kind, ns, name, sub, verb)

    async def _resource(
        self, request: web.Request, group: str, version: str, segs: list[str]
    ) -> web.StreamResponse:
        r = self._parse(request, group, version, segs)
        k = r.kind
        self.authz.check(r.verb, k.group, k.plural, r.namespace, r.sub, r.name)
        if k.group == "metrics.k8s.io":
            return self._metrics(request, r)
        if k.group in ("authorization.k8s.io", "authentication.k8s.io"):
            return await self._review(request, r)
        if k.key in VIEWS and r.verb not in ("get", "list", "watch"):
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        if r.sub == "log":
            return await self._delegate(request, r, self.logbook, "pod logs")
        if r.sub == "exec":
            return await self._delegate(request, r, self.execserver, "exec")
        if r.sub == "eviction":
            return await self._evict(request, r)
        if r.sub == "scale":
            return await self._scale(request, r)
        verb = r.verb
        if verb == "list":
            return self._list(request, r)
        if verb == "watch":
            return await self._watch(request, r)
        if verb == "get":
            return self._get(request, r)
        if verb == "create":
            return await self._create(request, r)
        if verb in ("update", "patch"):
            return await self._update(request, r)
        if verb == "delete":
            return await self._delete(request, r)
        if verb == "deletecollection":
            return await self._delete_collection(request, r)
        raise ApiError(405, "method not allowed", "MethodNotAllowed")

    # ---- reading --------------------------------------------------------------------

    @staticmethod
    def _source(kind: Kind) -> tuple[str, Callable[[dict], dict] | None]:
        """The store key a resource reads from, and the view conversion if any."""
        view = VIEWS.get(kind.key)
        return (view[0], view[1]) if view else (kind.key, None)

    def _current(self, r: Request) -> dict:
        key, convert = self._source(r.kind)
        obj = self.store.get(key, r.namespace or "", r.name or "")
        if obj is None:
            raise not_found(r.kind.plural, r.kind.group, r.name or "")
        return convert(obj) if convert else obj

    @staticmethod
    def _wants(request: web.Request) -> str:
        accept = request.headers.get("Accept", "")
        if "as=Table" in accept:
            return "table"
        if "as=PartialObjectMetadata" in accept:
            return "partial"
        return "json"

    def _get(self, request: web.Request, r: Request) -> web.Response:
        obj = self._current(r)
        mode = self._wants(request)
        if mode == "table":
            body = tables.table(
                r.kind.key,
                [obj],
                self.clock(),
                request.query.get("includeObject", "Metadata"),
                {"resourceVersion": obj["metadata"]["resourceVersion"]},
            )
            return respond(body, content_type="application/json;as=Table;v=v1;g=meta.k8s.io")
        if mode == "partial":
            return respond(tables.partial_metadata(obj))
        if r.kind.key in VIEWS:
            return respond(obj)
        if r.sub == "status" or r.sub is None:
            return web.Response(body=self.store.raw(r.kind.key, obj), content_type=JSON)
        raise ApiError(404, _NOT_FOUND, "NotFound")

    def _list(self, request: web.Request, r: Request) -> web.Response:
        q = request.query
        label = parse_label_selector(q.get("labelSelector"))
        field = parse_field_selector(q.get("fieldSelector"))
        try:
            limit = int(q.get("limit") or 0)
        except ValueError as e:
            raise bad_request(f"invalid limit: {q.get('limit')}") from e
        key, convert = self._source(r.kind)
        keys = self.store.keys(key, r.namespace)
        start = 0
        if q.get("continue"):
            after = _decode_continue(q["continue"])
            start = bisect.bisect_right(keys, after)
        objs: list[dict] = []
        idx = start
        get = self.store.get
        more = False
        for idx in range(start, len(keys)):
            obj = get(key, *keys[idx])
            if obj is None:
                continue
            if convert is not None:
                obj = convert(obj)
            if (label is None or label(obj)) and (field is None or field(obj)):
                if limit and len(objs) >= limit:
                    more = True
                    break
                objs.append(obj)
        meta: dict[str, Any] = {"resourceVersion": str(self.store.rv)}
        if more:
            last = objs[-1]["metadata"]
            meta["continue"] = _encode_continue(
                self.store.rv, (last.get("namespace", ""), last["name"])
            )
            if label is None and field is None:
                meta["remainingItemCount"] = len(keys) - idx
        mode = self._wants(request)
        if mode == "table":
            body = tables.table(
                r.kind.key, objs, self.clock(), q.get("includeObject", "Metadata"), meta
            )
            return respond(body, content_type="application/json;as=Table;v=v1;g=meta.k8s.io")
        if mode == "partial":
            return respond(
                {
                    "kind": "PartialObjectMetadataList",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                    "items": [tables.partial_metadata(o) for o in objs],
                }
            )
        head = (
            b'{"kind":"'
            + f"{r.kind.kind}List".encode()
            + b'","apiVersion":"'
            + r.kind.api_version.encode()
            + b'","metadata":'
            + _dumps(meta)
            + b',"items":['
        )
        raw = (lambda _k, o: _dumps(o)) if convert is not None else self.store.raw
        body = head + b",".join(raw(key, o) for o in objs) + b"]}"
        return web.Response(body=body, content_type=JSON)

    # ---- watch ----------------------------------------------------------------------

    async def _watch(self, request: web.Request, r: Request) -> web.StreamResponse:
        q = request.query
        key, convert = self._source(r.kind)
        label = parse_label_selector(q.get("labelSelector"))
        field = parse_field_selector(q.get("fieldSelector"))
        if convert is not None:
            # Selectors speak the view's field names (regarding.name, ...).
            label0, field0 = label, field

            def label(o: dict) -> bool:
                return label0 is None or label0(convert(o))

            def field(o: dict) -> bool:
                return field0 is None or field0(convert(o))

        if r.name is not None:  # the deprecated /watch/namespaces/x/pods/name form
            name = r.name
            inner = field

            def field(o: dict) -> bool:
                return o["metadata"]["name"] == name and (inner is None or inner(o))

        rv_param = q.get("resourceVersion", "")
        try:
            timeout = float(q.get("timeoutSeconds") or 0) or 1800.0
        except ValueError as e:
            raise bad_request("invalid timeoutSeconds") from e
        bookmarks = q.get("allowWatchBookmarks") in ("true", "1")
        initial_events = q.get("sendInitialEvents") in ("true", "1")
        table = self._wants(request) == "table"
        include = q.get("includeObject", "Metadata")
        watcher = Watcher(key, r.namespace, label, field)
        # No await between registering and reading the history/state: nothing is missed.
        self.store.add_watcher(watcher)
        self._watchers.add(watcher)
        try:
            first: list[tuple[str, dict]] = []
            error: dict | None = None
            if rv_param in ("", "0") or initial_events:
                first = [
                    ("ADDED", o) for o in self.store.list(key, r.namespace) if watcher.matches(o)
                ]
            else:
                try:
                    since = int(rv_param)
                except ValueError as e:
                    raise bad_request(f"invalid resource version: {rv_param}") from e
                try:
                    for change in self.store.changes_since(since):
                        seen = watcher.translate(change)
                        if seen is not None:
                            first.append(seen)
                except Expired as e:
                    error = {
                        "type": "ERROR",
                        "object": {
                            "kind": "Status",
                            "apiVersion": "v1",
                            "metadata": {},
                            "status": "Failure",
                            "message": str(e),
                            "reason": "Expired",
                            "code": 410,
                        },
                    }
            start_rv = self.store.rv
            ctype = "application/json;as=Table;v=v1;g=meta.k8s.io" if table else JSON
            resp = web.StreamResponse(
                status=200, headers={"Content-Type": ctype, "Cache-Control": "no-cache"}
            )
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            columns = [True]

            def line(typ: str, obj: dict) -> bytes:
                if convert is not None:
                    obj = convert(obj)
                if table and typ in ("ADDED", "MODIFIED", "DELETED"):
                    body = tables.table(
                        r.kind.key,
                        [obj],
                        self.clock(),
                        include,
                        {"resourceVersion": obj["metadata"]["resourceVersion"]},
                        with_columns=columns[0],
                    )
                    columns[0] = False
                    return b'{"type":"' + typ.encode() + b'","object":' + _dumps(body) + b"}\n"
                if (
                    convert is None
                    and typ in ("ADDED", "MODIFIED")
                    and obj
                    is self.store.get(
                        key, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
                    )
                ):
                    raw = self.store.raw(key, obj)
                else:
                    raw = _dumps(obj)
                return b'{"type":"' + typ.encode() + b'","object":' + raw + b"}\n"

            if error is not None:
                await resp.write(_dumps(error) + b"\n")
                return resp
            if first:
                await resp.write(b"".join(line(t, o) for t, o in first))
            if initial_events and bookmarks:
                await resp.write(self._bookmark(r.kind, start_rv, initial_end=True))
            try:
                await self._pump(request, resp, watcher, line, timeout, bookmarks, r.kind)
            except (ConnectionResetError, ClientConnectionResetError):
                pass  # the client hung up mid-write: a normal end of a watch
            return resp
        finally:
            self.store.remove_watcher(watcher)
            self._watchers.discard(watcher)

    def _bookmark(self, kind: Kind, rv: int, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        return (
            _dumps(
                {
                    "type": "BOOKMARK",
                    "object": {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": meta},
                }
            )
            + b"\n"
        )

    async def _pump(
        self,
        request: web.Request,
        resp: web.StreamResponse,
        watcher: Watcher,
        line: Callable[[str, dict], bytes],
        timeout: float,
        bookmarks: bool,
        kind: Kind,
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        next_bookmark = loop.time() + self.bookmark_s
        while True:
            now = loop.time()
            if now >= deadline:
                return
            transport = request.transport
            if transport is None or transport.is_closing():
                return  # the client went away (aiohttp does not cancel us for it)
            wait = min(deadline - now, self.disconnect_check_s)
            if bookmarks:
                wait = min(wait, max(0.0, next_bookmark - now))
            try:
                item = await asyncio.wait_for(watcher.queue.get(), timeout=wait)
            except TimeoutError:
                if bookmarks and loop.time() >= next_bookmark:
                    await resp.write(self._bookmark(kind, self.store.rv))
                    next_bookmark = loop.time() + self.bookmark_s
                continue
            if item is _STOP:
                return
            batch = [item]
            while not watcher.queue.empty():  # coalesce a burst into one write
                nxt = watcher.queue.get_nowait()
                if nxt is _STOP:
                    break
                batch.append(nxt)
            out = []
            for change in batch:
                seen = watcher.translate(change)
                if seen is not None:
                    out.append(line(*seen))
            if out:
                await resp.write(b"".join(out))
            if any(c is _STOP for c in batch):
                return

    # ---- writing --------------------------------------------------------------------

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            return None
        if request.content_type == protobuf.CONTENT_TYPE:
            return protobuf.decode(raw)
        try:
            return json.loads(raw)
        except ValueError as e:
            raise bad_request(f"the body of the request is not valid JSON: {e}") from e

    @staticmethod
    def _dry(request: web.Request) -> bool:
        return "All" in request.query.getall("dryRun", [])

    def _check_namespace(self, ns: str | None) -> None:
        if ns and self.store.get("namespaces", "", ns) is None:
            raise not_found("namespaces", "", ns)

    async def _create(self, request: web.Request, r: Request) -> web.Response:
        if r.name is not None:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        k = r.kind
        body = await self._body(request)
        if not isinstance(body, dict):
            raise bad_request("Object 'Kind' is missing in the request body")
        if body.get("kind") and body["kind"] != k.kind:
            raise bad_request(
                f"the kind in the data ({body['kind']}) does not match the expected kind ({k.kind})"
            )
        if body.get("apiVersion") and body["apiVersion"] != k.api_version:
            raise bad_request(
                f"the API version in the data ({body['apiVersion']}) does not "
                f"match the expected API version ({k.api_version})"
            )
        body["kind"], body["apiVersion"] = k.kind, k.api_version
        body = strip_nulls(body)
        m = body.setdefault("metadata", {})
        if k.namespaced:
            if m.get("namespace") and m["namespace"] != r.namespace:
                raise bad_request(
                    "the namespace of the provided object does not match the "
                    "namespace sent on the request"
                )
            m["namespace"] = r.namespace
            self._check_namespace(r.namespace)
        for f in _SERVER_FIELDS:
            m.pop(f, None)
        if not m.get("name") and m.get("generateName"):
            m["name"] = m["generateName"] + suffix(5)
        uid = new_uid()
        obj = prepare_create(k.key, body, uid)
        if k.key == "services":
            self._allocate_service(obj)
        if self.store.get(k.key, r.namespace or "", m["name"]) is not None:
            raise already_exists(k.plural, k.group, m["name"])
        m["uid"] = uid
        m["creationTimestamp"] = ts(self.clock())
        if self._dry(request):
            m["generation"] = 1
            return respond(obj, 201)
        created = self.store.create(k.key, obj)
        return web.Response(body=self.store.raw(k.key, created), status=201, content_type=JSON)

    def _allocate_service(self, svc: dict) -> None:
        spec = svc["spec"]
        if not spec.get("clusterIP"):
            used = {(s.get("spec") or {}).get("clusterIP") for s in self.store.list("services")}
            rng = random.Random()
            while True:
                ip = f"10.100.{rng.randrange(1, 255)}.{rng.randrange(1, 255)}"
                if ip not in used:
                    break
            spec["clusterIP"] = ip
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec.get("type") in ("LoadBalancer", "NodePort"):
            for p in spec.get("ports") or []:
                p.setdefault("nodePort", random.randrange(30000, 32768))

    async def _update(self, request: web.Request, r: Request) -> web.Response:
        k = r.kind
        if r.name is None:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        cur = self._current(r)
        body = await self._body(request)
        if request.method == "PATCH":
            if body is None:
                raise bad_request("the body of the request was empty")
            patched = apply_patch(request.content_type or "", clone(cur), body)
            want_rv = (patched.get("metadata") or {}).get("resourceVersion")
        else:
            if not isinstance(body, dict):
                raise bad_request("Object 'Kind' is missing in the request body")
            patched = body
            want_rv = (patched.get("metadata") or {}).get("resourceVersion")
            bname = (patched.get("metadata") or {}).get("name")
            if bname and bname != r.name:
                raise bad_request(
                    f"the name of the object ({bname}) does not match the name "
                    f"on the URL ({r.name})"
                )
        if want_rv and want_rv != cur["metadata"]["resourceVersion"]:
            raise modified_conflict(k.plural, k.group, r.name or "")
        patched = strip_nulls(patched)
        new = self._merge_update(k, r.sub, cur, patched)
        if _same(cur, new):
            return web.Response(body=self.store.raw(k.key, cur), content_type=JSON)
        if self._dry(request):
            return respond(new)
        updated = self.store.update(k.key, new)
        return web.Response(body=self.store.raw(k.key, updated), content_type=JSON)

    def _merge_update(self, k: Kind, sub: str | None, cur: dict, patched: dict) -> dict:
        """The object to store: status-only for /status, spec+metadata otherwise, with
        the server-owned metadata kept."""
        if sub == "status":
            new = clone(cur)
            new["status"] = patched.get("status", {})
            return new
        new = dict(patched)
        new["kind"], new["apiVersion"] = k.kind, k.api_version
        meta = dict(new.get("metadata") or {})
        for f in _SERVER_FIELDS:
            if f in cur["metadata"]:
                meta[f] = cur["metadata"][f]
            else:
                meta.pop(f, None)
        meta["name"] = cur["metadata"]["name"]
        if k.namespaced:
            meta["namespace"] = cur["metadata"]["namespace"]
        new["metadata"] = meta
        if k.sub("status") is not None and "status" in cur:
            new["status"] = cur["status"]
        self._validate_update(k, cur, new)
        return new

    def _validate_update(self, k: Kind, cur: dict, new: dict) -> None:
        name = cur["metadata"]["name"]
        spec = new.get("spec")
        if k.key in _SCALABLE and isinstance(spec, dict):
            tpl = spec.get("template")
            if isinstance(tpl, dict):
                default_pod_spec(tpl.setdefault("spec", {}), template=True)
                (tpl.get("metadata") or {}).pop("creationTimestamp", None)
            replicas = spec.get("replicas", 1)
            if not isinstance(replicas, int) or replicas < 0:
                raise invalid(
                    k.kind,
                    k.group,
                    name,
                    "spec.replicas",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                )
            if cur.get("spec", {}).get("selector") != spec.get("selector") and k.key in (
                "deployments.apps",
                "replicasets.apps",
                "statefulsets.apps",
            ):
                raise invalid(
                    k.kind, k.group, name, "spec.selector", "Invalid value: field is immutable"
                )
        if k.key == "pods" and isinstance(spec, dict):
            old = cur.get("spec") or {}
            changed = {f for f in set(spec) | set(old) if spec.get(f) != old.get(f)}
            allowed = {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"}
            images_only = changed == {"containers"} and [
                {x: y for x, y in c.items() if x != "image"} for c in spec.get("containers", [])
            ] == [{x: y for x, y in c.items() if x != "image"} for c in old.get("containers", [])]
            if changed - allowed and not images_only:
                raise invalid(
                    "Pod",
                    "",
                    name,
                    "spec",
                    "Forbidden: pod updates may not change "
                    "fields other than `spec.containers[*].image`, "
                    "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
                    "`spec.tolerations` (only additions to existing tolerations), "
                    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 "
                    "if it was previously negative)",
                    "FieldValueForbidden",
                )

    # ---- scale ----------------------------------------------------------------------

    @staticmethod
    def _scale_of(k: Kind, obj: dict) -> dict:
        m = obj["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                "name": m["name"],
                "namespace": m.get("namespace"),
                "uid": m["uid"],
                "resourceVersion": m["resourceVersion"],
                "creationTimestamp": m["creationTimestamp"],
            },
            "spec": {"replicas": int((obj.get("spec") or {}).get("replicas", 1))},
            "status": {
                "replicas": int((obj.get("status") or {}).get("replicas", 0)),
                "selector": selector_string((obj.get("spec") or {}).get("selector")),
            },
        }

    async def _scale(self, request: web.Request, r: Request) -> web.Response:
        k = r.kind
        cur = self._current(r)
        scale = self._scale_of(k, cur)
        if r.verb == "get":
            return respond(scale)
        if r.verb not in ("update", "patch"):
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        body = await self._body(request)
        if body is None:
            raise bad_request("the body of the request was empty")
        if r.verb == "patch":
            new_scale = apply_patch(request.content_type or "", clone(scale), body)
        else:
            new_scale = body
        want_rv = (new_scale.get("metadata") or {}).get("resourceVersion")
        if want_rv and want_rv != cur["metadata"]["resourceVersion"]:
            raise modified_conflict(k.plural, k.group, r.name or "")
        replicas = (new_scale.get("spec") or {}).get("replicas", 0)
        if not isinstance(replicas, int) or replicas < 0:
            raise invalid(
                "Scale",
                "autoscaling",
                r.name or "",
                "spec.replicas",
                f"Invalid value: {replicas}: must be greater than or equal to 0",
            )
        if replicas == (cur.get("spec") or {}).get("replicas", 1) or self._dry(request):
            out = self._scale_of(k, cur)
            out["spec"]["replicas"] = replicas
            return respond(out)
        new = clone(cur)
        new["spec"]["replicas"] = replicas
        updated = self.store.update(k.key, new)
        return respond(self._scale_of(k, updated))

    # ---- delete ---------------------------------------------------------------------

    async def _delete_options(self, request: web.Request) -> dict:
        body = await self._body(request)
        opts = dict(body) if isinstance(body, dict) else {}
        q = request.query
        if "gracePeriodSeconds" in q:
            try:
                opts["gracePeriodSeconds"] = int(q["gracePeriodSeconds"])
            except ValueError as e:
                raise bad_request("invalid gracePeriodSeconds") from e
        if "propagationPolicy" in q:
            opts["propagationPolicy"] = q["propagationPolicy"]
        if q.get("orphanDependents") == "true":
            opts["propagationPolicy"] = "Orphan"
        if "dryRun" in q:
            opts["dryRun"] = q.getall("dryRun")
        return opts

    def _check_preconditions(self, k: Kind, cur: dict, opts: dict) -> None:
        pre = opts.get("preconditions") or {}
        m = cur["metadata"]
        if pre.get("uid") and pre["uid"] != m["uid"]:
            raise conflict(
                k.plural,
                k.group,
                m["name"],
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in "
                f"object meta: {m['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != m["resourceVersion"]:
            raise conflict(
                k.plural,
                k.group,
                m["name"],
                "Precondition failed: ResourceVersion in precondition: "
                f"{pre['resourceVersion']}, ResourceVersion in object meta: "
                f"{m['resourceVersion']}",
            )

    def _delete_one(self, k: Kind, cur: dict, opts: dict, dry: bool) -> tuple[dict, bool]:
        """Returns (what to answer with, whether it is the object itself)."""
        m = cur["metadata"]
        if k.key == "namespaces":
            raise ApiError(
                405,
                "deleting namespaces is not supported by the simulated cluster",
                "MethodNotAllowed",
            )
        if dry:
            return (
                (cur, True)
                if k.key == "pods"
                else (success_body(m["name"], k.group, k.plural, m["uid"]), False)
            )
        if opts.get("propagationPolicy") == "Orphan":
            for key, dep in self.store.owned_keys(m["uid"]):
                new = clone(dep)
                new["metadata"]["ownerReferences"] = [
                    ref
                    for ref in dep["metadata"].get("ownerReferences") or []
                    if ref.get("uid") != m["uid"]
                ]
                self.store.update(key, new)
        if k.key == "pods":
            grace = opts.get("gracePeriodSeconds")
            return self.ctl.delete_pod(cur, None if grace is None else int(grace)), True
        if k.key == "events":
            self.ctl.recorder._seen.pop(
                self.ctl.recorder._keys.pop((m.get("namespace", ""), m["name"]), None), None
            )
        self.store.delete(k.key, m.get("namespace", ""), m["name"])
        return success_body(m["name"], k.group, k.plural, m["uid"]), False

    async def _delete(self, request: web.Request, r: Request) -> web.Response:
        k = r.kind
        opts = await self._delete_options(request)
        cur = self._current(r)
        self._check_preconditions(k, cur, opts)
        headers = {}
        if (
            k.key == "jobs.batch"
            and not opts.get("propagationPolicy")
            and opts.get("orphanDependents") is None
        ):
            # batch/v1 keeps its old default: a deleted Job leaves its pods behind.
            opts["propagationPolicy"] = "Orphan"
            headers["Warning"] = (
                '299 - "child pods are preserved by default when jobs are '
                "deleted; set propagationPolicy=Background to remove them or "
                'set propagationPolicy=Orphan to suppress this warning"'
            )
        if opts.get("orphanDependents") is True:
            opts["propagationPolicy"] = "Orphan"
        answer, is_obj = self._delete_one(k, cur, opts, "All" in (opts.get("dryRun") or []))
        resp = web.Response(body=_dumps(answer), content_type=JSON) if is_obj else respond(answer)
        resp.headers.update(headers)
        return resp

    async def _delete_collection(self, request: web.Request, r: Request) -> web.Response:
        k = r.kind
        opts = await self._delete_options(request)
        q = request.query
        label = parse_label_selector(q.get("labelSelector"))
        field = parse_field_selector(q.get("fieldSelector"))
        dry = "All" in (opts.get("dryRun") or [])
        items = []
        for obj in self.store.list(k.key, r.namespace):
            if (label is None or label(obj)) and (field is None or field(obj)):
                self._delete_one(k, obj, opts, dry)
                items.append(obj)
        return respond(
            {
                "kind": f"{k.kind}List",
                "apiVersion": k.api_version,
                "metadata": {"resourceVersion": str(self.store.rv)},
                "items": items,
            }
        )

    async def _evict(self, request: web.Request, r: Request) -> web.Response:
        if r.verb != "create":
            raise ApiError(405, "method not allowed", "MethodNotAllowed")
        cur = self._current(r)
        body = await self._body(request) or {}
        opts = dict(body.get("deleteOptions") or {})
        self._check_preconditions(r.kind, cur, opts)
        if not self._dry(request) and "All" not in (opts.get("dryRun") or []):
            grace = opts.get("gracePeriodSeconds")
            self.ctl.delete_pod(cur, None if grace is None else int(grace))
        return respond(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "code": 201,
            },
            201,
        )

    # ---- virtual resources ----------------------------------------------------------

    def _metrics(self, request: web.Request, r: Request) -> web.Response:
        if r.verb not in ("get", "list"):
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        label = parse_label_selector(request.query.get("labelSelector"))
        if r.kind.plural == "pods":
            if r.name is not None:
                pod = self.store.get("pods", r.namespace or "", r.name)
                item = self.metrics.pod_item(pod) if pod is not None else None
                if item is None:
                    raise not_found("podmetrics", "metrics.k8s.io", r.name)
                return respond(item)
            items = [i for i in self.metrics.pod_metrics(r.namespace) if label is None or label(i)]
            return respond(
                {
                    "kind": "PodMetricsList",
                    "apiVersion": "metrics.k8s.io/v1beta1",
                    "metadata": {},
                    "items": items,
                }
            )
        items = [i for i in self.metrics.node_metrics() if label is None or label(i)]
        if r.name is not None:
            for i in items:
                if i["metadata"]["name"] == r.name:
                    return respond(i)
            raise not_found("nodemetrics", "metrics.k8s.io", r.name)
        return respond(
            {
                "kind": "NodeMetricsList",
                "apiVersion": "metrics.k8s.io/v1beta1",
                "metadata": {},
                "items": items,
            }
        )

    async def _review(self, request: web.Request, r: Request) -> web.Response:
        if r.verb != "create":
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        body = await self._body(request) or {}
        if r.kind.plural == "selfsubjectaccessreviews":
            return respond(self.authz.access_review(body), 201)
        if r.kind.plural == "selfsubjectrulesreviews":
            return respond(self.authz.rules_review(body), 201)
        return respond(self.authz.self_review(), 201)

    async def _service_proxy(
        self, request: web.Request, ns: str, service_id: str, rest: list[str]
    ) -> web.Response:
        """`.../services/ID/proxy/PATH`: authorised as VERB on services/proxy."""
        verb = _PROXY_VERBS.get(request.method)
        if verb is None:
            raise ApiError(
                405,
                "the server does not allow this method on the requested resource",
                "MethodNotAllowed",
            )
        self.authz.check(verb, "", "services", ns, "proxy", service_id)
        path = "/" + "/".join(rest)
        if request.path.endswith("/") and rest:
            path += "/"
        return await self.service_proxy.serve(request, ns, service_id, path)

    async def _delegate(
        self, request: web.Request, r: Request, target: Any, what: str
    ) -> web.StreamResponse:
        ns, name = r.namespace or "", r.name or ""
        self._current(r)
        if target is None:
            raise ApiError(
                503, f"{what} are not available in this simulated cluster", "ServiceUnavailable"
            )

        def get_pod() -> dict | None:
            return self.store.get("pods", ns, name)

        return await target.serve(request, ns, name, get_pod)


def _same(a: dict, b: dict) -> bool:
    """Equal apart from the resourceVersion: such an update is a no-op and keeps it."""
    if a.keys() != b.keys():
        return False
    for key in a:
        if key == "metadata":
            ma = {k: v for k, v in a[key].items() if k != "resourceVersion"}
            mb = {k: v for k, v in (b.get(key) or {}).items() if k != "resourceVersion"}
            if ma != mb:
                return False
        elif a[key] != b[key]:
            return False
    return True


def _request_kind(request: web.Request, streaming: bool) -> str:
    path = request.path
    if _SERVICE_PROXY.match(path) is not None:
        return "proxy"
    if path.endswith("/exec"):
        return "exec"
    if path.endswith("/log"):
        return "log"
    if streaming:
        return "watch"
    if "metrics.k8s.io" in path:
        return "metrics"
    return request.method.lower()
