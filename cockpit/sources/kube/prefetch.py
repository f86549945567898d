"""Connect and fetch the first screen's pods while the UI is still being imported.

`cockpit run` calls `start()` before it imports Textual and the app (a third of a
second of imports); a thread reads the kubeconfig, builds the client and asks for the
pods' Table (first_pods.py).  Startup then `take()`s the connection and the rows
instead of making them, so the request to the API server overlaps the imports, as
kubectl's whole run does.  Nothing heavy is imported here at module level.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, str | None, str | None]


@dataclass
class Prefetch:
    key: Key
    done: threading.Event = field(default_factory=threading.Event)
    target: Any = None  # KubeTarget
    rows: list[Any] | None = None  # PodRow from the Table; None when it failed
    workloads: tuple[Any, ...] | None = None  # WorkloadRow; None when it failed
    error: BaseException | None = None  # from connect(): startup raises it as its own


_pending: Prefetch | None = None


def _key(settings: Any, context: str | None, namespace: str | None) -> Key:
    from cockpit.sources.kube.client import kubeconfig_path

    return (kubeconfig_path(settings), context, namespace)


def _run(pre: Prefetch, settings: Any, context: str | None, namespace: str | None) -> None:
    try:
        from cockpit.marks import mark
        from cockpit.sources.kube.client import connect
        from cockpit.sources.kube.first_pods import fetch_pod_table, fetch_workloads

        pre.target = connect(settings, context=context, namespace=namespace)
        mark("prefetch_connected")
        try:
            if not _from_early(pre):
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


def _from_early(pre: Prefetch) -> bool:
    """The rows from the request `cockpit run` began before its imports (early.py),
    when it asked what this connection would."""
    from datetime import UTC, datetime

    import orjson

    from cockpit.marks import mark
    from cockpit.sources.kube import early
    from cockpit.sources.kube.first_pods import table_rows, workloads_from

    target = pre.target
    found = early.take(pre.key[0], target.context, target.namespace, target.server)
    if found is None or None in (found.pods, found.deployments, found.statefulsets):
        return False
    pre.rows = table_rows(orjson.loads(found.pods), datetime.now(UTC))
    mark("prefetch_table", len(pre.rows))
    pre.workloads = workloads_from(
        orjson.loads(found.deployments), orjson.loads(found.statefulsets)
    )
    return True


def start(settings: Any, context: str | None, namespace: str | None) -> None:
    """Begin in the background (settings: KubeSettings)."""
    global _pending
    pre = Prefetch(("", context, namespace))
    _pending = pre

    def run() -> None:
        pre.key = _key(settings, context, namespace)
        _run(pre, settings, context, namespace)

    threading.Thread(target=run, name="kube-prefetch", daemon=True).start()


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
    pre.done.wait()
    return pre if pre.key == _key(settings, context, namespace) else None
