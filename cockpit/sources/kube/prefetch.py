"""Connect and fetch the first screen's pods while the UI is still being imported.

`cockpit run` calls `start()` before it imports Textual and the app (a third of a
second of imports); a thread reads the kubeconfig, builds the client and asks for the
pods' Table (first_pods.py).  Startup then `take()`s the connection and the rows
instead of making them, so the request to the API server overlaps the imports, as
kubectl's whole run does.  Nothing heavy is imported here at module level.

When early.py's request (begun before the settings were read) asked what the settings
ask, its rows are made into a provisional snapshot first (`early_snapshot()`), without
the `kubernetes` client: startup paints them, then `release()`s this thread to import
and build the client (0.1-0.2 s of CPU that would otherwise share the GIL with the
imports and the first screen).

At thousands of pods the early Table is paged (early.py): the first snapshot holds the
first page (`remaining` says how many are still to come), and this thread parses the
other pages once that is painted (`early_rest()`), then connects.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str | None, str | None]
CONNECT_AT_LATEST_S = 3.0  # the early rows were never painted (or never will be): connect
# The Table's other pages are parsed before the first paint when they hold at most this
# many pods (1,000 pods: two pages of 500); after it, at thousands of pods.
SMALL_REST = 1000


@dataclass
class Prefetch:
    key: Key
    done: threading.Event = field(default_factory=threading.Event)
    target: Any = None  # KubeTarget
    rows: list[Any] | None = None  # PodRow from the Table; None when it failed
    workloads: tuple[Any, ...] | None = None  # WorkloadRow; None when it failed
    error: BaseException | None = None  # from connect(): startup raises it as its own
    early: Any = None  # KubeSnapshot from early.py's Table, before connecting; else None
    early_plan: Any = None  # the early.Plan it came from
    early_found: Any = None  # the early.Early it came from, for the Table's other pages
    # `early` made whole (the other pages parsed) or found not to be: see early_rest().
    early_whole: threading.Event = field(default_factory=threading.Event)
    early_ready: threading.Event = field(default_factory=threading.Event)  # `early` decided
    go: threading.Event = field(default_factory=threading.Event)  # connect now
    # Started before the settings were read (cockpit/first_screen.py): they come here.
    settings_in: threading.Event = field(default_factory=threading.Event)
    settings: Any = None  # KubeSettings, once settings_in is set (None: refused)


_pending: Prefetch | None = None


def _key(settings: Any, context: str | None, namespace: str | None) -> Key:
    from cockpit.sources.kube.kubeconfig import kubeconfig_path

    return (kubeconfig_path(settings), context, namespace)


def _run(pre: Prefetch, settings: Any, context: str | None, namespace: str | None) -> None:
    try:
        from cockpit.marks import mark

        try:
            _early_rows(pre, settings, context, namespace)
            if pre.early is not None and 0 < (pre.early.remaining or 0) <= SMALL_REST:
                # A few hundred more pods: parsed now, in a few milliseconds, rather
                # than painted in two steps (0: the server did not say how many).
                _early_whole(pre)
        finally:
            pre.early_ready.set()
        if pre.early is not None:  # the client's imports wait for the early rows' paint
            pre.go.wait(CONNECT_AT_LATEST_S)
            _early_whole(pre)
        pre.early_whole.set()
        if settings is None:  # read after the first paint (provide_settings)
            pre.settings_in.wait()
            if (settings := pre.settings) is None:
                return  # refused: the app says why and exits
        pre.key = _key(settings, context, namespace)
        # Imports kubernetes (0.1 s of CPU): after the early rows, not beside the UI's.
        from cockpit.sources.kube.client import connect
        from cockpit.sources.kube.first_pods import fetch_pod_table, fetch_workloads

        pre.target = connect(settings, context=context, namespace=namespace)
        mark("prefetch_connected")
        try:
            if _early_agrees(pre):
                pre.rows, pre.workloads = list(pre.early.pods), pre.early.workloads
            elif not _from_early(pre):
                pre.rows = fetch_pod_table(
                    pre.target.api, pre.target.namespace, settings.request_timeout
                )
                mark("prefetch_table", len(pre.rows))
                pre.workloads = fetch_workloads(
                    pre.target.api, pre.target.namespace, settings.request_timeout
                )
        except Exception:  # a shortcut only: the informers' lists say what is wrong
            pass
    except BaseException as exc:  # the kubeconfig is bad: startup says so, as without this
        pre.error = exc
    finally:
        pre.early_whole.set()
        pre.done.set()


def _early_rows(pre: Prefetch, settings: Any, context: str | None, namespace: str | None) -> None:
    """The early request's rows as a provisional snapshot, when it asked what connect()
    will: the same kubeconfig file, context and namespace (the server follows from them;
    checked again once connected)."""
    from cockpit.model import KubeSnapshot
    from cockpit.sources.kube import early

    plan = early.pending_plan()
    if plan is None:
        return
    # No settings yet: cockpit/first_screen.py found that they cannot ask otherwise.
    if settings is not None and not _settings_ask(plan, settings, context, namespace):
        return
    found = early.take(plan.kubeconfig, plan.context, plan.namespace, plan.server)
    parsed = _parsed(found)
    if parsed is None:
        return
    rows, workloads, now = parsed
    pre.early_plan, pre.early_found = plan, found
    pre.early = KubeSnapshot(
        context=plan.context,
        namespace=plan.namespace,
        pods=tuple(rows),
        workloads=workloads,
        taken_at=now,
        provisional=True,
        remaining=found.pods_remaining,
    )


def _early_whole(pre: Prefetch) -> None:
    """The early snapshot with the Table's other pages, when it held the first only;
    left as it is when one of them failed (connecting asks for the whole Table)."""
    from dataclasses import replace

    from cockpit.marks import mark

    snapshot = pre.early
    if snapshot.remaining is None:
        return
    mark("prefetch_rest")
    try:
        rows = _all_rows(pre.early_found, list(snapshot.pods))
    except Exception:  # a shortcut only (a page that is not a Table): connecting asks again
        return
    if rows is not None:
        pre.early = replace(snapshot, pods=tuple(rows), remaining=None)


def _settings_ask(plan: Any, settings: Any, context: str | None, namespace: str | None) -> bool:
    """Whether connect() with these settings reads what `plan` read (early.py read the
    kubeconfig before the settings existed)."""
    from cockpit.sources.kube.early import DEFAULT_NAMESPACE
    from cockpit.sources.kube.kubeconfig import kubeconfig_path

    if kubeconfig_path(settings) != plan.kubeconfig:
        return False
    wanted = context or settings.context
    if wanted is not None and wanted != plan.context:
        return False
    # connect(): the context's namespace only while the settings keep the default one.
    ns = namespace or (None if settings.namespace == DEFAULT_NAMESPACE else settings.namespace)
    return ns is None or ns == plan.namespace


def _early_agrees(pre: Prefetch) -> bool:
    """Connected where the early rows came from (they may be on screen already), and
    they are the whole Table."""
    plan, target = pre.early_plan, pre.target
    if pre.early is None or plan is None or pre.early.remaining is not None:
        return False
    asked = (plan.context, plan.namespace, plan.server.rstrip("/"))
    return asked == (target.context, target.namespace, target.server.rstrip("/"))


def _from_early(pre: Prefetch) -> bool:
    """The rows from the request `cockpit run` began before its imports (early.py),
    when it asked what this connection would."""
    from cockpit.sources.kube import early

    target = pre.target
    found = early.take(pre.key[0], target.context, target.namespace, target.server)
    parsed = _parsed(found)
    rows = _all_rows(found, parsed[0]) if parsed is not None else None
    if parsed is None or rows is None:
        return False
    pre.rows, pre.workloads = rows, parsed[1]
    return True


def _parsed(found: Any) -> tuple[list[Any], tuple[Any, ...], Any] | None:
    """The pod rows of the Table's first page, the workloads and the moment of an
    early.Early's answers; None when there is none or one of its three requests failed."""
    from datetime import UTC, datetime

    import orjson

    from cockpit.marks import mark
    from cockpit.sources.kube.first_pods import table_rows, workloads_from

    if found is None or None in (found.pods, found.deployments, found.statefulsets):
        return None
    now = datetime.now(UTC)
    table = found.pods_table if found.pods_table is not None else orjson.loads(found.pods)
    rows = table_rows(table, now)
    mark("prefetch_table", len(rows))
    workloads = workloads_from(orjson.loads(found.deployments), orjson.loads(found.statefulsets))
    return rows, workloads, now


def _all_rows(found: Any, first: list[Any]) -> list[Any] | None:
    """The first page's rows and those of the Table's other pages, once they are in
    (blocking); None when one of them failed."""
    from datetime import UTC, datetime

    import orjson

    from cockpit.marks import mark
    from cockpit.sources.kube.first_pods import table_rows

    if found.pods_remaining is None:
        return first
    found.done.wait()
    if found.more_pods is None:
        return None
    now = datetime.now(UTC)
    rows, columns = list(first), None
    for body in found.more_pods:
        page = orjson.loads(body)
        if not page.get("columnDefinitions") and columns is None:  # a server may omit them
            first_page = found.pods_table or orjson.loads(found.pods)
            columns = first_page.get("columnDefinitions") or []
        rows += table_rows(page, now, columns)
    mark("prefetch_table_whole", len(rows))
    return rows


def start(settings: Any, context: str | None, namespace: str | None) -> None:
    """Begin in the background.  settings: KubeSettings, or None when they are read
    after the first paint and given with provide_settings() (the early rows are then
    taken as they are: cockpit/first_screen.py)."""
    global _pending
    pre = Prefetch(("", context, namespace))
    _pending = pre
    threading.Thread(
        target=_run, args=(pre, settings, context, namespace), name="kube-prefetch", daemon=True
    ).start()


def provide_settings(settings: Any) -> None:
    """The KubeSettings read after the first paint (None: refused), for a prefetch
    started without them."""
    pre = _pending
    if pre is not None:
        pre.settings = settings
        pre.settings_in.set()


def early_snapshot(wait: float = 0.0) -> Any:
    """The provisional KubeSnapshot from the early request (waiting at most `wait`
    seconds for it to be decided), or None: connect the usual way."""
    pre = _pending
    if pre is None or not pre.early_ready.wait(wait):
        return None
    return pre.early


def early_rest(wait: float) -> Any:
    """The early snapshot made whole, when the one given first held only the Table's
    first page (waiting `wait` seconds at most, off the loop); else None."""
    pre = _pending
    if pre is None or pre.early_found is None or pre.early_found.pods_remaining is None:
        return None
    if not pre.early_whole.wait(wait):
        return None
    snapshot = pre.early
    return snapshot if snapshot.remaining is None else None


def release() -> None:
    """The early rows are on screen (or will not be): connect now."""
    pre = _pending
    if pre is not None:
        pre.go.set()


def pending() -> bool:
    """A prefetch was started and not yet taken."""
    return _pending is not None


def ready() -> bool:
    """A prefetch is pending and finished: take() will not block."""
    pre = _pending
    return pre is not None and pre.done.is_set()


def take(settings: Any, context: str | None, namespace: str | None) -> Prefetch | None:
    """The prefetch for exactly this connection, once finished (blocking), or None."""
    global _pending
    pre, _pending = _pending, None
    if pre is None:
        return None
    pre.go.set()
    pre.done.wait()
    return pre if pre.key == _key(settings, context, namespace) else None
