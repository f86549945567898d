"""Whether `cockpit run` may draw its first screen before reading the settings.

The settings (pydantic-settings) cost a tenth of a second of CPU to import and build,
as much as Textual's own imports, and the first screen needs none of them when early.py's
Table request asked what the settings would ask: they name no kubeconfig, context or
namespace of their own, neither in the file's [kube] table nor in a COCKPIT_KUBE...
variable (the command line's --context and --namespace went into the request itself).
Then the app reads the settings in a thread after its first paint (CockpitApp with
`load_settings`), keys waiting until they are in.  When in doubt (no early request, an
unreadable or malformed file: the settings will say what is wrong) they are read first,
as before.  Imports: the standard library and platformdirs only.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from cockpit.config_paths import ENV_PREFIX, config_path

KUBE_TARGET_KEYS = ("context", "namespace", "kubeconfig")  # what early.py decided itself


def settings_keep_target(explicit: Path | None) -> bool:
    """True when the settings cannot name another kubeconfig, context or namespace than
    the command line and the kubeconfig do (`explicit`: the --config flag)."""
    if any(name.upper().startswith(ENV_PREFIX + "KUBE") for name in os.environ):
        return False
    path, required = config_path(explicit)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return not required  # a named file that is missing: the settings say so first
    except OSError:
        return False
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    kube = data.get("kube", {})
    return isinstance(kube, dict) and not any(key in kube for key in KUBE_TARGET_KEYS)
