"""Telling people: the incident channel on Slack and by email."""

from __future__ import annotations

from typing import Any

from actions.notify.action import NotifyContext, NotifyIncident


async def make_context(settings: Any, journal: Any) -> NotifyContext:
    return NotifyContext(settings.notify, settings.contacts, journal)


__all__ = ["NotifyContext", "NotifyIncident", "make_context"]
