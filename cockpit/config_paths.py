"""Where the settings come from, without the settings' imports.

`cockpit run` decides whether its first screen may come before the settings are read
(cockpit/first_screen.py), and the journal and log files find their directories, with
no pydantic imported (a tenth of a second of CPU at start-up)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "cockpit"
ENV_PREFIX = "COCKPIT_"


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def config_path(explicit: Path | None) -> tuple[Path, bool]:
    """The file to read and whether the user named it (a named file must exist)."""
    if explicit is not None:
        return explicit, True
    if os.environ.get("COCKPIT_CONFIG"):
        return Path(os.environ["COCKPIT_CONFIG"]), True
    return default_config_path(), False
