"""Messages panes send to the app: "run this action", "open this view".

Panes build actions from what they show (an Action is plain data until the app runs
it); the app checks, confirms, runs and journals.  Panes never do I/O themselves.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message

from actions.base import Action


class ActionRequested(Message):
    def __init__(self, action: Action) -> None:
        super().__init__()
        self.action = action


class ViewRequested(Message):
    """A read-only view the app opens with data it fetches (describe, deep views)."""

    def __init__(self, view: str, **args: Any) -> None:
        super().__init__()
        self.view = view
        self.args = args
