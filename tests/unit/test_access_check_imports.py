"""The RBAC check after connecting imports the action modules (and their clients) in a
thread: on the loop, that first import held it 45-50 ms at start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# In a fresh interpreter: the action modules are not imported yet, as at start-up.
SCRIPT = """
import asyncio, json, sys, threading

from cockpit.action_flow import ActionFlow

importers = {}


class NoteImporter:
    def find_spec(self, name, path, target=None):
        if name.startswith("actions."):
            importers.setdefault(name, threading.current_thread().name)
        return None


class Access:  # the RBAC cache's interface: what was asked
    def __init__(self):
        self.asked = []

    async def check(self, permission):
        self.asked.append(str(permission))


async def main():
    flow = ActionFlow(None, None, lambda names: None)
    flow.access = Access()
    await flow.check_access()
    return flow.access.asked


sys.meta_path.insert(0, NoteImporter())
asked = asyncio.run(main())
print(json.dumps({"asked": len(asked), "importers": importers}))
"""


def test_the_access_check_imports_the_action_modules_off_the_loop() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["asked"] > 0  # it did check the Kubernetes actions' permissions
    for module in ("actions.postgres", "actions.redis", "actions.kube"):
        assert module in got["importers"]
        assert got["importers"][module] != "MainThread", got["importers"]
