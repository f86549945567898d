"""Messages panes send to the app: "run this action", "open this view".

Panes name the action and hand over what they show (rows from snapshots); the app
builds it, checks, confirms, runs and journals.  Panes never import the action modules
(they import the backend clients) and never do I/O.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class ActionRequested(Message):
    """Run action `action_id` (see actions.catalog) built from `args` (rows shown)."""

    def __init__(self, action_id: str, **args: Any) -> None:
        super().__init__()
        self.action_id = action_id
        self.args = args


class ViewRequested(Message):
    """A read-only view the app opens with data it fetches (describe, deep views)."""

    def __init__(self, view: str, **args: Any) -> None:
        super().__init__()
        self.view = view
        self.args = args


class SourceOptions(Message):
    """Ask source `source` for more or less than it reads by default (the PostgreSQL
    pane's "all" view wants every session's row); the app polls it again at once."""

    def __init__(self, source: str, **options: Any) -> None:
        super().__init__()
        self.source = source
        self.options = options
