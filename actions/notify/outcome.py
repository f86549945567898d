"""What one channel answered, as the journal and the toast report it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChannelOutcome:
    channel: str  # "slack" or "email"
    recipient: str  # masked: "Slack webhook https://hooks.slack.com/services/T…/****"
    ok: bool
    code: int | None  # the HTTP status, or the SMTP reply code to DATA
    reply: str  # Slack's body, or the SMTP server's reply text (bounded, secrets masked)
    error: str = ""  # what went wrong, in words
    hint: str = ""

    def sentence(self) -> str:
        if self.ok:
            return f"{self.channel}: accepted ({self.code} {self.reply})".rstrip()
        return f"{self.channel} FAILED: {self.error}" + (f" ({self.hint})" if self.hint else "")

    def as_journal(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "recipient": self.recipient,
            "ok": self.ok,
            "code": self.code,
            "reply": self.reply,
            **({"error": self.error} if self.error else {}),
        }
