"""Key N in the running cockpit: the modal shows the recipients (masked) and the
prefilled message, a person edits it by typing, Send delivers exactly that to a local
Slack webhook stand-in and a real SMTP server (STARTTLS + AUTH)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button, Static, TextArea

from cockpit.app import Launch
from cockpit.config import KubeSettings, NotifySettings, Settings
from tests.actions import notify_servers
from tests.actions.notify_servers import SMTP_PASSWORD, WEBHOOK_SECRET
from tests.pilot import cockpit_running, wait_for
from widgets.notify import NotifyScreen

from .static_app import StaticCockpitApp

SIZE = (160, 45)

# The stand-ins' fixtures, under their own names.
slack_server = notify_servers.slack_server
smtp_server = notify_servers.smtp_server


def make_app(tmp_path: Path, notify: NotifySettings, **overrides: Any) -> StaticCockpitApp:
    settings = Settings(
        journal_path=tmp_path / "journal.jsonl",
        kube=KubeSettings(context="cockpit-sim", kubeconfig=tmp_path / "no-kubeconfig"),
        notify=notify,
        **overrides,
    )
    return StaticCockpitApp(Launch(settings=settings, context="cockpit-sim"))


def notify_settings(slack: Any, smtp: Any) -> NotifySettings:
    return NotifySettings(
        slack_webhook_url=slack.url(),
        smtp_host=smtp.host,
        smtp_port=smtp.port,
        smtp_user=smtp.user,
        smtp_password=smtp.password,
        smtp_ca_file=smtp.ca_file,
        email_to=("ops@example.com",),
        timeout=5.0,
    )


async def fed(pilot: Any) -> None:
    app = pilot.app
    app.feed()
    await wait_for(pilot, lambda: app.degraded_since is not None, what="the incident scene")


async def open_modal(pilot: Any) -> NotifyScreen:
    await pilot.press("N")

    def ready() -> NotifyScreen | None:
        screen = pilot.app.screen
        if isinstance(screen, NotifyScreen) and screen.is_mounted and screen.focused:
            return screen
        return None

    screen = await wait_for(pilot, ready, what="the notify modal")
    await pilot.pause()
    return screen


async def test_n_edits_and_sends_the_message_to_slack_and_email(
    slack_server, smtp_server, tmp_path: Path
) -> None:
    app = make_app(tmp_path, notify_settings(slack_server, smtp_server))
    async with cockpit_running(app, size=SIZE) as pilot:
        await fed(pilot)
        screen = await open_modal(pilot)
        assert screen.focused is screen.query_one("#cancel", Button)  # a stray Enter cancels
        shown = str(screen.query_one("#notify-recipients", Static).render())
        assert "/services/T…/****" in shown and "email ops@example.com" in shown
        assert WEBHOOK_SECRET not in shown and SMTP_PASSWORD not in shown
        area = screen.query_one("#notify-message", TextArea)
        prefilled = area.text
        assert prefilled.startswith("*[CRIT] excel-unified* · context cockpit-sim")
        assert "*What is failing*" in prefilled
        # A person: shift+tab into the text, types a line above the prefilled message.
        await pilot.press("shift+tab")
        assert screen.focused is area
        await pilot.press(*"Rolling", "space", *"back", "space", *"rails", "enter")
        edited = area.text
        assert edited == "Rolling back rails\n" + prefilled
        assert str(screen.query_one("#notify-count", Static).render()).startswith(
            f"{len(edited):,} characters"
        )
        # Tab to Send and press it.
        await pilot.press("tab", "tab", "tab")
        assert screen.focused is screen.query_one("#execute", Button)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: slack_server.posts and smtp_server.messages, what="both deliveries"
        )
        await wait_for(
            pilot, lambda: any(e.get("outcome") == "succeeded" for e in app.journal.read()),
            what="the outcome in the journal",
        )  # fmt: skip
    assert slack_server.posts[0][1] == {"text": edited}
    body = smtp_server.messages[0].get_content().replace("\r\n", "\n")
    assert body == edited + "\n"
    entries = app.journal.read()
    assert [e["outcome"] for e in entries] == ["started", "succeeded"]
    assert entries[-1]["action"] == "notify.send"
    assert entries[-1]["result"]["message"] == edited
    codes = sorted(o["code"] for o in entries[-1]["result"]["outcomes"])
    assert codes == [200, 250]
    text = app.journal.path.read_text(encoding="utf-8")
    assert WEBHOOK_SECRET not in text and SMTP_PASSWORD not in text


async def test_dry_run_and_read_only_and_cancel(slack_server, smtp_server, tmp_path: Path) -> None:
    app = make_app(tmp_path, notify_settings(slack_server, smtp_server), read_only=True)
    async with cockpit_running(app, size=SIZE) as pilot:
        await fed(pilot)
        titles = [command.title for command in app.palette_commands()]
        assert "Notify the incident channel" in titles  # offered in read-only sessions
        assert "Run the backup job now" not in titles
        screen = await open_modal(pilot)
        assert "READ-ONLY" in str(screen.query_one("#notify-mode", Static).render())
        await pilot.click("#dry-run")
        await wait_for(
            pilot, lambda: any(e.get("outcome") == "dry-run ok" for e in app.journal.read()),
            what="the dry run's outcome",
        )  # fmt: skip
        assert slack_server.posts == [] and smtp_server.messages == []
        # Escape cancels, and the cancellation is journaled.
        await open_modal(pilot)
        await pilot.press("escape")
        await wait_for(
            pilot, lambda: app.journal.read()[-1].get("outcome") == "cancelled", what="cancel"
        )
    assert slack_server.posts == [] and smtp_server.messages == []


async def test_no_channel_configured_is_a_refusal_with_a_hint(tmp_path: Path) -> None:
    app = make_app(tmp_path, NotifySettings())
    async with cockpit_running(app, size=SIZE) as pilot:
        await fed(pilot)
        await pilot.press("N")
        await wait_for(
            pilot, lambda: app.journal.read() and app.journal.read()[-1]["outcome"] == "refused",
            what="the refusal",
        )  # fmt: skip
        assert not isinstance(app.screen, NotifyScreen)
        assert "notify.slack_webhook_url" in app.journal.read()[-1]["error"]
        assert any("notify.smtp_host" in str(n.message) for n in app._notifications)
        assert app.is_running
