"""Disk usage of the pods that hold data: `df` run in each pod over exec.

podexec.py  one command in a pod over the WebSocket exec API (its own client, locked)
df.py       strict parsing of `df -P -B1`
source.py   DiskSource: which pods and mounts matter, a DiskSnapshot per poll
check.py    `cockpit check` lines
"""

from cockpit.sources.disk.check import check_lines
from cockpit.sources.disk.source import DiskSource

__all__ = ["DiskSource", "check_lines"]
