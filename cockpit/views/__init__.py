"""Read-only views the panes ask for by name, opened by the app with data it fetches.

Each entry is a coroutine `open(app, **args) -> Screen | None`; the deep views live in
modules of their own (they may import sources and widgets, like app.py) and are
imported when first opened.  Keeping them here stops app.py from growing a branch
per view.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cockpit.log_files import save_log_lines

if TYPE_CHECKING:  # imported when opened: rich.pretty and attrs are not for the first screen
    from cockpit.model import PodRow
    from widgets.logview import LogScreen, LogViewOptions
    from widgets.textview import TextScreen


async def _postgres_deep(app: Any, **args: Any) -> Any:
    from cockpit.views.postgres_deep import open_deep_view

    return await open_deep_view(app, **args)


async def _redis_deep(app: Any, **args: Any) -> Any:
    from cockpit.views.redis_deep import open_deep_view

    return await open_deep_view(app, **args)


async def _describe_service(app: Any, workload: Any, **_: Any) -> TextScreen | None:
    """`kubectl describe svc <app>-service`: the runbook names services that way."""
    from cockpit.sources.kube.describe import describe_service
    from widgets.textview import TextScreen

    target = app.sources.kube_target
    if target is None:
        app.notify("Not connected to Kubernetes yet", severity="warning")
        return None
    name = f"{workload.name}-service"
    lines = await asyncio.to_thread(
        describe_service, target.api, target.namespace, name, app.settings.kube.request_timeout
    )
    return TextScreen(f"kubectl describe svc -n {target.namespace} {name}", lines)


VIEWS: dict[str, Callable[..., Awaitable[Any]]] = {
    "pg-deep": _postgres_deep,
    "redis-deep": _redis_deep,
    "describe-service": _describe_service,
}


async def open_view(app: Any, view: str, args: dict[str, Any]) -> Any:
    """The screen for `view`, or None when the view has nothing to show."""
    opener = VIEWS.get(view)
    if opener is None:
        raise KeyError(f"no such view: {view}")
    return await opener(app, **args)


def pod_log_screen(app: Any, pod: PodRow, previous: bool) -> LogScreen | None:
    """The full-screen log view of a pod, streaming through the app's kube source."""
    from cockpit.sources.kube.logs import PodLogStream
    from widgets.logview import LogScreen, LogViewOptions

    kube = app.sources.kube
    if kube is None:
        app.notify("Not connected to Kubernetes yet", severity="warning")
        return None
    containers = tuple(c.name for c in pod.containers)
    logs = app.settings.logs
    timeout = app.settings.kube.request_timeout

    def open_feed(options: LogViewOptions) -> PodLogStream:
        return PodLogStream(
            kube.pod_log,
            pod.name,
            options.container,
            tail_lines=options.tail_lines,
            since_seconds=options.since_seconds,
            previous=options.previous,
            follow=options.follow,
            max_lines=logs.viewer_max_lines,
            request_timeout=timeout,
        ).start()

    options = LogViewOptions(container=containers[0] if containers else None, previous=previous)
    return LogScreen(
        pod.name, containers, open_feed, save_log_lines, options, max_lines=logs.viewer_max_lines
    )
