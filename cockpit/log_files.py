"""Log lines a person saved from the log view (ctrl+s): private files, never overwritten."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path

import platformdirs

from cockpit.config_paths import APP_NAME


def save_log_lines(pod: str, lines: list[str], directory: Path | None = None) -> str:
    """Write a log view's lines under the XDG data dir; returns the path."""
    directory = directory or Path(platformdirs.user_data_dir(APP_NAME)) / "logs"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", pod)
    # Logs can carry customer data: readable by their owner only, like the journal.
    # O_EXCL: two saves within a second get two files, never one overwritten.
    for n in range(100):
        path = directory / (f"{safe}-{stamp}.log" if n == 0 else f"{safe}-{stamp}-{n}.log")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{directory}: too many saves of {pod} this second")
    with open(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + ("\n" if lines else ""))
        handle.flush()
        os.fsync(handle.fileno())
    return str(path)
