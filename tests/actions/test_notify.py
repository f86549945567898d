"""Notify the incident channel against a local Slack webhook stand-in (aiohttp) and a
real SMTP server (aiosmtpd: STARTTLS with a trustme certificate, AUTH required)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from actions.base import Refused
from actions.notify import NotifyContext, NotifyIncident
from actions.notify.message import Failing, IncidentState
from actions.runner import ActionRunner, Who
from cockpit.audit import Journal
from cockpit.config import NotifySettings
from cockpit.model import Level
from tests.actions import notify_servers
from tests.actions.notify_servers import SMTP_PASSWORD, WEBHOOK_SECRET

EDITED = "Rolling back rails now. <!here> — Müller's fix & all\nsecond line"

# The stand-ins' fixtures, under their own names.
slack_server = notify_servers.slack_server
smtp_server = notify_servers.smtp_server


def settings(slack: Any = None, smtp: Any = None, **overrides: Any) -> NotifySettings:
    values: dict[str, Any] = {"timeout": 5.0, "email_to": ("ops@example.com", "lead@example.com")}
    if slack is not None:
        values["slack_webhook_url"] = slack.url()
    if smtp is not None:
        values.update(
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            smtp_user=smtp.user,
            smtp_password=smtp.password,
            smtp_ca_file=smtp.ca_file,
        )
    values.update(overrides)
    return NotifySettings(**values)


def state() -> IncidentState:
    return IncidentState(
        level=Level.CRIT,
        failing=(Failing("Pods: 1 crash-looping", Level.CRIT, datetime.now(UTC)),),
        context="prod",
        namespace="excel-unified",
    )


def runner(journal: Journal, read_only: bool = False) -> ActionRunner:
    # No secrets handed to the journal: what is masked must be masked by the action.
    return ActionRunner(journal, Who("prod", "alice", "excel-unified"), read_only=read_only,
                        dry_run=False, timeout=15)  # fmt: skip


async def prepared(ctx: NotifyContext, message: str | None = EDITED) -> NotifyIncident:
    action = await NotifyIncident(state=state()).prepare(ctx)
    return action.with_params({"message": message}) if message is not None else action


def journal_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def test_both_channels_receive_the_edited_text_and_the_journal_keeps_no_secret(
    slack_server, smtp_server, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = NotifyContext(settings(slack_server, smtp_server), journal=journal)
    action = await prepared(ctx)
    assert action.channels == ("slack", "email")
    result = await runner(journal).run(action, ctx)
    assert result.ok, result.message
    # Slack got exactly the edited text.
    assert slack_server.posts == [(slack_server.url().removeprefix(slack_server.base),
                                   {"text": EDITED})]  # fmt: skip
    # The SMTP server got it after STARTTLS and AUTH, from/to/subject from the settings.
    [mail] = smtp_server.messages
    # SMTP carries lines ending in CRLF, and a MIME body ends with a line end.
    assert mail.get_content().replace("\r\n", "\n") == EDITED + "\n"
    assert mail["Subject"] == "[CRIT] excel-unified incident (prod)"
    assert mail["From"] == "cockpit@excel-unified.com"
    assert smtp_server.capture.envelopes == [
        ("cockpit@excel-unified.com", ["ops@example.com", "lead@example.com"])
    ]
    # The outcome, verified, is in the journal with the answers.
    entries = journal.read()
    assert [e["outcome"] for e in entries] == ["started", "succeeded"]
    outcomes = {o["channel"]: o for o in entries[1]["result"]["outcomes"]}
    assert outcomes["slack"]["code"] == 200 and outcomes["slack"]["reply"] == "ok"
    assert outcomes["email"]["code"] == 250
    assert outcomes["email"]["reply"] == "250 2.0.0 Ok: queued as NOTIFY42"
    assert entries[1]["result"]["message"] == EDITED
    assert entries[1]["result"]["message_chars"] == len(EDITED)
    assert entries[0]["targets"][0].endswith("/services/T…/****")
    text = journal_text(journal.path)
    assert WEBHOOK_SECRET not in text and slack_server.url() not in text
    assert SMTP_PASSWORD not in text
    assert "slack: accepted (200 ok)" in result.message
    assert "email: accepted (250 250 2.0.0 Ok: queued as NOTIFY42)" in result.message


async def test_slack_answering_404_no_service_is_a_failed_outcome(
    slack_server, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    gone = settings(slack_webhook_url=slack_server.url("gone"))
    ctx = NotifyContext(gone, journal=journal)
    result = await runner(journal).run(await prepared(ctx), ctx)
    assert not result.ok
    assert "HTTP 404 'no_service'" in result.message
    assert len(slack_server.posts) == 1  # it did reach the server
    last = journal.read()[-1]
    assert last["outcome"] == "failed"
    assert last["result"]["outcomes"][0]["code"] == 404
    assert last["result"]["outcomes"][0]["reply"] == "no_service"
    assert "/gone" not in journal_text(journal.path)  # the secret part of the URL


async def test_a_wrong_smtp_password_is_the_servers_535_in_the_outcome(
    smtp_server, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    wrong = "not-the-Passw0rd"
    ctx = NotifyContext(settings(smtp=smtp_server, smtp_password=wrong), journal=journal)
    result = await runner(journal).run(await prepared(ctx), ctx)
    assert not result.ok
    assert "AUTH refused: 535" in result.message
    assert smtp_server.messages == []
    last = journal.read()[-1]
    assert last["outcome"] == "failed"
    assert last["result"]["outcomes"][0]["code"] == 535
    assert wrong not in journal_text(journal.path)


async def test_an_untrusted_certificate_fails_cleanly(smtp_server, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = NotifyContext(settings(smtp=smtp_server, smtp_ca_file=None), journal=journal)
    result = await runner(journal).run(await prepared(ctx), ctx)
    assert not result.ok and "email FAILED" in result.message
    assert "certificate" in result.message.lower()
    assert smtp_server.messages == []


async def test_dry_run_sends_nothing_and_journals_what_would_be_sent(
    slack_server, smtp_server, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = NotifyContext(settings(slack_server, smtp_server), journal=journal)
    result = await runner(journal).run(await prepared(ctx), ctx, dry_run=True)
    assert result.ok and result.dry_run
    assert "would go to Slack" in result.message and "email ops@example.com" in result.message
    assert slack_server.posts == [] and smtp_server.messages == []
    last = journal.read()[-1]
    assert (last["mode"], last["outcome"]) == ("dry-run", "dry-run ok")
    assert last["result"]["message"] == EDITED


async def test_read_only_sessions_may_notify(slack_server, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    ctx = NotifyContext(settings(slack_server), journal=journal)
    run = runner(journal, read_only=True)
    assert run.allows(NotifyIncident)
    result = await run.run(await prepared(ctx), ctx)
    assert result.ok and len(slack_server.posts) == 1
    assert journal.read()[-1]["mode"] == "read-only"


async def test_no_channel_configured_is_refused_with_a_hint(tmp_path: Path) -> None:
    ctx = NotifyContext(NotifySettings(), journal=Journal(tmp_path / "journal.jsonl"))
    with pytest.raises(Refused, match=r"notify\.slack_webhook_url .*notify\.smtp_host"):
        await NotifyIncident(state=state()).prepare(ctx)


async def test_the_password_never_travels_without_tls(smtp_server, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    plain = settings(smtp=smtp_server, smtp_starttls=False)
    ctx = NotifyContext(plain, journal=journal)
    result = await runner(journal).run(await prepared(ctx), ctx)
    assert not result.ok and "without TLS" in result.message
    assert smtp_server.messages == []


async def test_the_message_is_prefilled_from_the_state_and_the_journal(
    slack_server, tmp_path: Path
) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    journal.append({"action": "pod.restart", "run": "r1", "mode": "armed",
                    "outcome": "succeeded", "plan": {"title": "Restart pod rails-x"}})  # fmt: skip
    ctx = NotifyContext(settings(slack_server), journal=journal)
    action = await prepared(ctx, message=None)
    assert action.message.startswith("*[CRIT] excel-unified* · context prod")
    assert "• CRIT Pods: 1 crash-looping" in action.message
    assert "Restart pod rails-x — succeeded" in action.message
    plan = action.plan()
    assert plan.title == "Notify the incident channel (slack)"
    assert any(f"sha256 {action.digest()[:16]}" in change for change in plan.changes)
    with pytest.raises(ValueError, match="empty"):
        action.with_params({"message": "  \n"})
