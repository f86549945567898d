"""List-then-watch of one Kubernetes collection on its own thread (an "informer").

The blocking client lives on a thread; the event loop only ever reads the converted
rows under a lock.  Lists read raw JSON (`_preload_content=False`): at thousands of
pods the client's model layer, not the network, is the cost.  Re-lists come in pages
of `list_chunk` objects, as kubectl and client-go read them: 5,000 pods parsed at once
are some 60 MB of dicts, and each resync added that much to the resident size (the
allocator keeps it).  The first list is read whole: the screen is waiting for it, one
request is 0.2 s faster at 5,000 pods, and the memory it leaves is reused.  A watch (or a
list continuation) that reports 410 Gone triggers an immediate re-list; every
`resync_s` the list is redone anyway.

After a failure the thread lists again with backoff, capped at `backoff_max`: the pollers
only read the rows, so this cap is how late the panes can recover after an outage (a fixed
30 s, plus jitter, kept them failing for up to 37 s after the API server was back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import orjson
from kubernetes.client.exceptions import ApiException

from cockpit import uipriority
from cockpit.errors import SourceError
from cockpit.polling import backoff_delay
from cockpit.sources.kube.client import kube_error
from cockpit.sources.kube.lines import resp_lines

Row = TypeVar("Row")
# A watch event is one object on one line; etcd stores none over 1.5 MiB.  Longer is cut
# (and fails to parse: the informer lists again) rather than held without end.
MAX_EVENT_BYTES = 8 << 20
COURTESY_EVERY = 25  # items converted between looks at the loop's foreground work (uipriority)
ListCall = Callable[..., Any]  # a kubernetes API list method, e.g. CoreV1Api.list_namespaced_pod


class _Expired(Exception):
    """The watch's resourceVersion is too old (410 Gone): list again."""


class Informer(Generic[Row]):
    def __init__(
        self,
        name: str,
        list_call: ListCall,
        convert: Callable[[dict], Row],
        *,
        server: str = "",
        resync_s: float = 300.0,
        request_timeout: float = 10.0,
        watch_timeout_s: int = 60,
        keep: Callable[[dict], bool] | None = None,
        on_change: Callable[[], None] | None = None,
        list_chunk: int = 500,
        whole_first_list: bool = True,
        backoff_base: float = 1.0,
        backoff_max: float = 5.0,
    ) -> None:
        self.name = name
        self._list_call = list_call
        self._convert = convert
        self._keep = keep
        self._server = server
        self._resync_s = resync_s
        self._request_timeout = request_timeout
        self._watch_timeout_s = watch_timeout_s
        self._on_change = on_change
        self._list_chunk = list_chunk
        self._whole_first_list = whole_first_list
        self._backoff = (backoff_base, backoff_max)
        self._rows: dict[str, Row] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._response: Any = None
        self._thread: threading.Thread | None = None
        self.version = 0  # bumps on every change to the rows
        self.synced = threading.Event()  # set after the first successful list
        self.error: SourceError | None = None
        self.failing_since: float | None = None
        self.retry_at: float | None = None
        self.last_contact: float | None = None  # monotonic time of the last good exchange
        self.lists = 0
        self.relists_on_410 = 0

    # -- the loop's side --------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"informer-{self.name}", daemon=True)
        self._thread.start()

    def signal_stop(self) -> None:
        """Ask the thread to end and unblock its read; does not wait."""
        self._stop.set()
        self._abort_response()

    def stop(self, timeout: float = 5.0) -> None:
        self.signal_stop()
        if self._thread is not None:
            self._thread.join(timeout)

    def retry_in(self) -> float | None:
        """Seconds until the thread lists again after a failure (0: it is at it now)."""
        retry_at = self.retry_at
        return None if retry_at is None else max(0.0, retry_at - time.monotonic())

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def rows(self) -> list[Row]:
        with self._lock:
            return list(self._rows.values())

    def get(self, uid: str) -> Row | None:
        with self._lock:
            return self._rows.get(uid)

    # -- the thread's side ------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                rv = self._list()
                failures = 0
                deadline = time.monotonic() + self._resync_s
                while not self._stop.is_set() and time.monotonic() < deadline:
                    rv = self._watch(rv, deadline)
            except _Expired:
                self.relists_on_410 += 1
                continue
            except Exception as exc:
                if self._stop.is_set():
                    break
                failures += 1
                self.error = kube_error(exc, self._server)
                now = time.monotonic()
                if self.failing_since is None:
                    self.failing_since = now
                delay = backoff_delay(failures, *self._backoff)
                self.retry_at = now + delay
                self._stop.wait(delay)

    def _call(self, **kwargs: Any) -> Any:
        response = self._list_call(_preload_content=False, **kwargs)
        self._response = response
        if self._stop.is_set():
            self._abort_response()
        return response

    def _list(self) -> str:
        """List every page; returns the resourceVersion to watch from: the first
        page's, so a change made while later pages were read comes again as an event."""
        rows: dict[str, Row] = {}
        rv = ""
        token: str | None = None
        while True:
            body = self._page(token)
            meta = body.get("metadata") or {}
            rv = rv or str(meta.get("resourceVersion") or "")
            for item in uipriority.stepping_aside(body.get("items") or (), COURTESY_EVERY):
                if self._keep is not None and not self._keep(item):
                    continue
                uid = (item.get("metadata") or {}).get("uid") or item["metadata"].get("name", "")
                rows[uid] = self._convert(item)
            token = meta.get("continue") or None
            del body
            if token is None or self._stop.is_set():
                break
        with self._lock:
            self._rows = rows
        self.lists += 1
        self._contact()
        self._changed()
        self.synced.set()
        return rv

    def _page(self, token: str | None) -> dict:
        whole = self._whole_first_list and self.lists == 0  # see the module's docstring
        chunk = 0 if whole else self._list_chunk
        paging: dict[str, Any] = {"limit": chunk} if chunk else {}
        if token is not None:
            paging["_continue"] = token
        try:
            response = self._call(
                _request_timeout=(self._request_timeout, self._request_timeout * 3), **paging
            )
        except ApiException as exc:
            if token is not None and exc.status == 410:
                raise _Expired() from exc  # the continue token expired: list from the top
            raise
        try:
            return orjson.loads(response.data)  # a 5,000-pod list: 13 MB
        finally:
            response.release_conn()

    def _watch(self, rv: str, deadline: float) -> str:
        remaining = max(1, int(min(self._watch_timeout_s, deadline - time.monotonic())))
        response = self._call(
            watch=True,
            resource_version=rv or None,
            allow_watch_bookmarks=True,
            timeout_seconds=remaining,
            _request_timeout=(self._request_timeout, remaining + self._request_timeout),
        )
        self._contact()
        try:
            for line in resp_lines(response, MAX_EVENT_BYTES):
                if self._stop.is_set():
                    break
                if not line:
                    continue
                event = orjson.loads(line)
                rv = self._apply(event, rv)
        finally:
            response.release_conn()
        return rv

    def _apply(self, event: dict, rv: str) -> str:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Expired()
            raise ApiException(status=obj.get("code") or 500, reason=obj.get("message", ""))
        meta = obj.get("metadata") or {}
        self._contact()
        new_rv = str(meta.get("resourceVersion") or rv)
        if kind == "BOOKMARK":
            return new_rv
        uid = meta.get("uid") or meta.get("name", "")
        keep = self._keep is None or self._keep(obj)
        with self._lock:
            if kind == "DELETED" or not keep:
                self._rows.pop(uid, None)
            else:
                self._rows[uid] = self._convert(obj)
        self._changed()
        return new_rv

    def _contact(self) -> None:
        self.last_contact = time.monotonic()
        self.error = None
        self.failing_since = None
        self.retry_at = None

    def _changed(self) -> None:
        self.version += 1
        if self._on_change is not None:
            self._on_change()

    def _abort_response(self) -> None:
        response = self._response
        if response is None:
            return
        try:
            response.shutdown()  # urllib3 2.x: unblocks a read on another thread
        except Exception:
            pass
        try:
            response.close()
        except Exception:
            pass
