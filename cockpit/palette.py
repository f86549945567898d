"""The command palette and the help screen: both derived from the keys the panes and
the app declare (widgets/keys.py), so a key, its palette entry and its help line can
never disagree.  Mutating entries are left out in read-only mode; forbidden ones (RBAC)
say so and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from textual.app import SystemCommand
from textual.binding import Binding

from widgets.help import KeyGroups
from widgets.keys import Key, palette_entry

if TYPE_CHECKING:
    from cockpit.app import CockpitApp
    from cockpit.config import Settings


def palette_commands(app: CockpitApp, global_keys: tuple[Key, ...]) -> Iterator[SystemCommand]:
    """Panes to go to and zoom, every pane's remedies for its selection, the global
    ones; forbidden ones say so (selecting one explains and journals the refusal)."""
    main = app.main
    for index, pane in enumerate(app.panes, start=1):
        title = pane.PANE_TITLE
        yield SystemCommand(
            f"Go to pane: {title}", f"key {index}", lambda p=pane: main.focus_pane(p)
        )
        yield SystemCommand(
            f"Zoom pane: {title}", "key z toggles", lambda p=pane: main.zoom_pane(p)
        )
    entries = [entry for pane in app.panes for entry in pane.palette_entries()]
    entries += [palette_entry(key, app, key.palette, f"key {key.display}") for key in global_keys]
    for title, help_text, callback, mutating, action_id in entries:
        if mutating and app.read_only:
            continue
        if reason := app.forbidden(action_id):
            title, help_text = f"{title} (forbidden)", reason
        yield SystemCommand(title, help_text, callback)
    yield SystemCommand("War room layout", "key w", app.action_war_room)
    yield SystemCommand("Refresh all panes", "key F5", app.sources.refresh)
    yield SystemCommand("Help: every key", "key ?", app.action_help)


def key_groups(app: CockpitApp, global_keys: tuple[Key, ...]) -> KeyGroups:
    """Every key, grouped as the help screen shows them."""
    rows = binding_rows(b for b in app.BINDINGS if app.check_action(b.action, ()))
    rows += [
        ("1-9, 0", "focus pane N in screen order (0: the tenth; tab for the rest)"),
        ("tab / shift+tab", "next / previous pane"),
    ]
    groups: KeyGroups = [("Everywhere", rows)]
    for pane in app.panes:
        pane_rows = []
        for key in pane.KEYS:
            if key.mutating and app.read_only:
                continue  # read-only: not offered at all
            reason = app.forbidden(key.action_id)
            label = f"{key.label} — FORBIDDEN: {reason}" if reason else key.label
            pane_rows.append((key.display, label))
        if pane_rows:
            groups.append((f"{pane.PANE_TITLE} pane", pane_rows))
    from widgets.logview import LogScreen  # rich.pretty and attrs: after the first screen

    groups.append(("Log view (enter on a pod)", binding_rows(LogScreen.BINDINGS)))
    return groups


def binding_rows(bindings: Iterable[Any]) -> list[tuple[str, str]]:
    rows = []
    for binding in bindings:
        if isinstance(binding, Binding):
            if not binding.show and not binding.description:
                continue
            keys = binding.key_display or binding.key.replace(",", " / ")
            rows.append((keys, binding.description or binding.action))
    return rows


def contacts_text(settings: Settings) -> str:
    """The runbook's contacts, at the foot of the help screen."""
    c = settings.contacts
    return (
        f"Incidents: Slack {c.slack_channel} · {c.incident_email} · on-call {c.on_call_phone}"
        f" · lead {c.team_lead_phone}\nStatus page {c.links.get('status', '')}"
    )
