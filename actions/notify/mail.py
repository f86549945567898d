"""Sending the message by email: SMTP, STARTTLS before AUTH, the reply to DATA kept.

The stdlib's smtplib, in a thread (asyncio.to_thread): one short conversation per
notification does not justify another dependency.  The password never travels in clear:
with STARTTLS off, a configured user is refused rather than sent.  The outcome is the
server's own reply to DATA ("250 2.0.0 Ok: queued as ..."), which is what says the
message was accepted; an AUTH or recipient refusal is reported with its code.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path

from actions.notify.outcome import ChannelOutcome
from cockpit.config import NotifySettings, redact
from cockpit.errors import describe
from cockpit.textsafe import one_line


def recipient(settings: NotifySettings) -> str:
    return "email " + ", ".join(settings.email_to)


def server(settings: NotifySettings) -> str:
    tls = "STARTTLS" if settings.smtp_starttls else "no TLS"
    auth = f", AUTH as {settings.smtp_user}" if settings.smtp_user else ""
    return f"{settings.smtp_host}:{settings.smtp_port} ({tls}{auth})"


def compose(settings: NotifySettings, text: str, subject: str) -> EmailMessage:
    message = EmailMessage(policy=SMTP_POLICY)
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = ", ".join(settings.email_to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=settings.email_from.rpartition("@")[2] or None)
    message.set_content(text)
    return message


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


def _reply(code: int, reply: bytes | str, secrets: tuple[str, ...]) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return one_line(redact(f"{code} {text}", secrets), 200)


def send(settings: NotifySettings, text: str, subject: str) -> ChannelOutcome:
    """One SMTP conversation (blocking: run it in a thread)."""
    to = recipient(settings)
    secrets = tuple(s for s in (settings.smtp_password,) if s)

    def failed(error: str, hint: str = "", code: int | None = None) -> ChannelOutcome:
        return ChannelOutcome("email", to, False, code, "", redact(error, secrets), hint)

    if not settings.smtp_host or not settings.email_to:
        return failed("no SMTP host or recipients", "set notify.smtp_host and notify.email_to")
    if settings.smtp_user and not settings.smtp_starttls:
        return failed(
            "refusing to send the SMTP password without TLS",
            "set notify.smtp_starttls = true (or leave notify.smtp_user unset)",
        )
    smtp: smtplib.SMTP | None = None
    try:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout)
        smtp.ehlo()
        if settings.smtp_starttls:
            if not smtp.has_extn("starttls"):
                return failed(
                    f"{settings.smtp_host} does not offer STARTTLS",
                    "use a submission port that does (587), or set notify.smtp_starttls = false",
                )
            smtp.starttls(context=tls_context(settings.smtp_ca_file))
            smtp.ehlo()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        code, reply = smtp.mail(settings.email_from)
        if code != 250:
            return failed(f"MAIL FROM refused: {_reply(code, reply, secrets)}", code=code)
        for address in settings.email_to:
            code, reply = smtp.rcpt(address)
            if code not in (250, 251):
                return failed(
                    f"RCPT TO {address} refused: {_reply(code, reply, secrets)}", code=code
                )
        code, reply = smtp.data(compose(settings, text, subject).as_bytes())
    except smtplib.SMTPAuthenticationError as exc:
        return failed(
            f"AUTH refused: {_reply(exc.smtp_code, exc.smtp_error, secrets)}",
            "check notify.smtp_user and notify.smtp_password",
            exc.smtp_code,
        )
    except smtplib.SMTPResponseException as exc:
        return failed(
            f"{type(exc).__name__}: {_reply(exc.smtp_code, exc.smtp_error, secrets)}",
            code=exc.smtp_code,
        )
    except (OSError, smtplib.SMTPException) as exc:
        message, hint = describe(exc)
        return failed(f"{settings.smtp_host}:{settings.smtp_port}: {message}", hint)
    finally:
        if smtp is not None:
            try:
                smtp.quit()  # a QUIT that fails after DATA changes nothing sent
            except (OSError, smtplib.SMTPException):
                smtp.close()
    if code != 250:
        return failed(f"DATA refused: {_reply(code, reply, secrets)}", code=code)
    return ChannelOutcome("email", to, True, code, _reply(code, reply, secrets))
