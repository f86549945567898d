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
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str | None, str | None]
CONNECT_AT_LATEST_S = 3.0  # the early rows were never painted (or never will be): connect


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
        finally:
            pre.early_ready.set()
        if pre.early is not None:  # the client's imports wait for the early rows' paint
            pre.go.wait(CONNECT_AT_LATEST_S)
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
    parsed = _parsed(early.take(plan.kubeconfig, plan.context, plan.namespace, plan.server))
    if parsed is None:
        return
    rows, workloads, now = parsed
    pre.early_plan = plan
    pre.early = KubeSnapshot(
        context=plan.context,
        namespace=plan.namespace,
        pods=tuple(rows),
        workloads=workloads,
        taken_at=now,
        provisional=True,
    )


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
    """Connected where the early rows came from (they may be on screen already)."""
    plan, target = pre.early_plan, pre.target
    if pre.early is None or plan is None:
        return False
    asked = (plan.context, plan.namespace, plan.server.rstrip("/"))
    return asked == (target.context, target.namespace, target.server.rstrip("/"))


def _from_early(pre: Prefetch) -> bool:
    """The rows from the request `cockpit run` began before its imports (early.py),
    when it asked what this connection would."""
    from cockpit.sources.kube import early

    target = pre.target
    parsed = _parsed(early.take(pre.key[0], target.context, target.namespace, target.server))
    if parsed is None:
        return False
    pre.rows, pre.workloads, _ = parsed
    return True


def _parsed(found: Any) -> tuple[list[Any], tuple[Any, ...], Any] | None:
    """The pod rows, the workloads and the moment of an early.Early's answers; None when
    there is none or one of its three requests failed."""
    from datetime import UTC, datetime

    import orjson

    from cockpit.marks import mark
    from cockpit.sources.kube.first_pods import table_rows, workloads_from

    if found is None or None in (found.pods, found.deployments, found.statefulsets):
        return None
    now = datetime.now(UTC)
    rows = table_rows(orjson.loads(found.pods), now)
    mark("prefetch_table", len(rows))
    workloads = workloads_from(orjson.loads(found.deployments), orjson.loads(found.statefulsets))
    return rows, workloads, now


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
