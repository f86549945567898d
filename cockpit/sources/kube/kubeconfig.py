"""Which kubeconfig file the settings name: no kubernetes import, so the first screen's
early rows (prefetch.py) can be checked against the settings before the client loads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def kubeconfig_path(settings: Any) -> str:
    """The file `connect()` reads (settings: KubeSettings)."""
    if settings.kubeconfig is not None:
        return str(settings.kubeconfig.expanduser())
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return first or str(Path("~/.kube/config").expanduser())
