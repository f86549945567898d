"""How the cockpit was started: settings plus what the command line chose.  Its own
module, so that what runs without a screen (cockpit record) imports no widget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubernetes import client as kube_client

    from cockpit.config import Settings


@dataclass(frozen=True)
class Launch:
    settings: Settings | None  # None: read after the first paint (CockpitApp.load_settings)
    context: str | None = None
    namespace: str | None = None
    kube_configuration: kube_client.Configuration | None = None
    note: str = ""  # shown in the header, e.g. "demo: simulated cluster (incident)"
    record: bool = True  # to the flight recorder (replay and feed viewers do not)
    war_room: bool = False  # open on the war-room screen (`cockpit serve --war-room`)
