"""Notify the incident channel: the prefilled, editable message to Slack and/or email.

It changes nothing in the cluster, so it is offered in read-only sessions too (an
observer must be able to tell the channel; `read_only_ok`), but it does reach people:
it is confirmed like any mutating action, a dry run shows what would be sent without
sending, and the journal records channels, masked recipients, the message's length,
hash and text, and each channel's answer — never the webhook URL or the SMTP password.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from actions.base import Action, Param, Plan, Refused, Result, Risk
from actions.notify import mail, slack
from actions.notify.message import (
    HARD_LIMIT,
    IncidentState,
    build_message,
    journal_since,
    subject,
)
from actions.notify.outcome import ChannelOutcome
from cockpit.config import Contacts, NotifySettings

NOT_CONFIGURED = (
    "no incident channel is configured: set notify.slack_webhook_url "
    "(COCKPIT_NOTIFY__SLACK_WEBHOOK_URL) and/or notify.smtp_host (COCKPIT_NOTIFY__SMTP_HOST)"
)
JOURNAL_TAIL = 5_000  # entries read back for "actions taken"


@dataclass
class NotifyContext:
    """What the action executes with: the settings (secrets included) and the journal."""

    settings: NotifySettings
    contacts: Contacts = field(default_factory=Contacts)
    journal: Any = None  # cockpit.audit.Journal; None: no actions to list

    def channels(self) -> tuple[str, ...]:
        found = []
        if self.settings.slack_webhook_url:
            found.append("slack")
        if self.settings.smtp_host and self.settings.email_to:
            found.append("email")
        return tuple(found)

    def recipients(self) -> tuple[str, ...]:
        shown = []
        if self.settings.slack_webhook_url:
            shown.append(
                f"Slack {self.contacts.slack_channel} via webhook "
                f"{slack.mask_webhook(self.settings.slack_webhook_url)}"
            )
        if "email" in self.channels():
            shown.append(
                f"{mail.recipient(self.settings)} from {self.settings.email_from} "
                f"via {mail.server(self.settings)}"
            )
        return tuple(shown)

    async def close(self) -> None:
        return None


@dataclass(frozen=True, eq=False)
class NotifyIncident(Action):
    id = "notify.send"
    label = "Notify the incident channel"
    mutating = True  # it reaches people: confirmed, dry-runnable, journaled
    read_only_ok = True  # but it changes nothing the cockpit watches
    context_kind = "notify"

    state: IncidentState | None = None
    message: str = ""
    subject: str = ""
    channels: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # masked, as shown and journaled

    async def prepare(self, ctx: NotifyContext) -> NotifyIncident:
        """Refuse when no channel is set; else fill the message from the state and the
        journal (read here, in the worker, not on the UI thread)."""
        channels = ctx.channels()
        if not channels:
            raise Refused(NOT_CONFIGURED)
        message, title = self.message, self.subject
        if self.state is not None and not message:
            entries = []
            if ctx.journal is not None:
                entries = await asyncio.to_thread(ctx.journal.read, JOURNAL_TAIL)
            message = build_message(
                self.state,
                entries,
                ctx.contacts.links,
                since=journal_since(self.state, ctx.settings.journal_hours),
            )
        if self.state is not None and not title:
            title = subject(self.state, ctx.settings.email_subject)
        return replace(
            self,
            message=message,
            subject=title or "Incident",
            channels=channels,
            recipients=ctx.recipients(),
        )

    def params(self) -> tuple[Param, ...]:
        return (Param("message", "Message", self.message, help="sent exactly as shown"),)

    def with_params(self, values: dict[str, str]) -> NotifyIncident:
        text = values.get("message", self.message)
        if not text.strip():
            raise ValueError("the message is empty")
        if len(text) > HARD_LIMIT:
            raise ValueError(f"the message is {len(text):,} characters; Slack takes {HARD_LIMIT:,}")
        return replace(self, message=text)

    def digest(self) -> str:
        return hashlib.sha256(self.message.encode("utf-8")).hexdigest()

    def plan(self) -> Plan:
        names = " and ".join(self.channels) or "no channel"
        return Plan(
            action=self.id,
            title=f"Notify the incident channel ({names})",
            changes=(
                *(f"send the message to {r}" for r in self.recipients),
                f"message: {len(self.message):,} characters, sha256 {self.digest()[:16]}",
            ),
            command=self._command(),
            targets=tuple(self.recipients),
            blast_radius="people in the incident channel read it; nothing in the cluster changes",
            risk=Risk.LOW,
            lock_key="notify",
        )

    def _command(self) -> str:
        lines = []
        for recipient in self.recipients:
            if recipient.startswith("Slack"):
                url = recipient.rpartition(" ")[2]
                lines.append(f"curl -X POST -H 'Content-Type: application/json' -d @msg.json {url}")
            else:
                lines.append(f"sendmail ({recipient}) < msg.txt")
        return "\n".join(lines) or "(no channel configured)"

    async def execute(self, ctx: NotifyContext, dry_run: bool) -> Result:
        settings = ctx.settings
        data: dict[str, Any] = {
            "channels": list(self.channels),
            "recipients": list(self.recipients),
            "message_chars": len(self.message),
            "message_sha256": self.digest(),
            "message": self.message,
        }
        if not self.channels:
            raise Refused(NOT_CONFIGURED)
        if dry_run:
            return Result(
                True,
                f"dry run: {len(self.message):,} characters would go to "
                + "; ".join(self.recipients)
                + " (nothing sent)",
                data,
            )
        sends = []
        if "slack" in self.channels and settings.slack_webhook_url:
            sends.append(slack.post(settings.slack_webhook_url, self.message, settings.timeout))
        if "email" in self.channels:
            sends.append(asyncio.to_thread(mail.send, settings, self.message, self.subject))
        outcomes: list[ChannelOutcome] = list(await asyncio.gather(*sends))
        data["outcomes"] = [o.as_journal() for o in outcomes]
        ok = bool(outcomes) and all(o.ok for o in outcomes)
        return Result(ok, "; ".join(o.sentence() for o in outcomes), data)
