"""DESIGN.md's dependency direction, enforced by import-linter's contracts in pyproject."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"
    done = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " kept, 0 broken" in done.stdout, done.stdout


def test_core_modules_do_not_load_textual() -> None:
    code = (
        "import sys, cockpit.sources.kube.source, cockpit.sources.host, cockpit.sim.pace, "
        "cockpit.model, cockpit.config, cockpit.audit, actions.kube, actions.runner; "
        "print('textual' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "False", done.stderr
