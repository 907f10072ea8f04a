"""Outgoing email over SMTP (or a folder / the log in development).

MAIL_URL forms: smtp://user:pass@host:25, smtp+starttls://host:587, smtps://host:465,
file://relative/or/absolute/folder, console://
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

from portal.observability import metrics

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, template: str, **context) -> EmailMessage:
    """A text and HTML message from templates/email/<template>.txt and .html."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="pier.localhost")
    message.set_content(render_template(f"email/{template}.txt", **context))
    message.add_alternative(render_template(f"email/{template}.html", **context), subtype="html")
    return message


def deliver(message: EmailMessage) -> None:
    """Hand a message to the configured transport; raises on failure. Counted and logged (with
    the current request id) either way."""
    fields = {"mail_to": message["To"], "mail_subject": message["Subject"]}
    try:
        _transport(message)
    except Exception as exc:
        metrics.EMAILS_FAILED.inc()
        log.warning("email not sent: %s", type(exc).__name__, extra=fields)
        raise
    metrics.EMAILS_SENT.inc()
    log.info("email sent", extra=fields | {"message_id": message["Message-ID"]})


def _transport(message: EmailMessage) -> None:
    url = urlsplit(current_app.config["MAIL_URL"])
    timeout = current_app.config.get("MAIL_TIMEOUT", 10)
    if url.scheme == "file":
        folder = Path(url.netloc + url.path)
        if not folder.is_absolute():
            folder = Path(current_app.root_path).parent / folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
        return
    if url.scheme == "console":
        log.info(
            "email to %s: %s\n%s",
            message["To"],
            message["Subject"],
            message.get_body(("plain",)).get_content(),
        )
        return
    if url.scheme not in ("smtp", "smtps", "smtp+starttls"):
        raise ValueError(f"MAIL_URL scheme {url.scheme!r} is not supported")
    host, port = url.hostname or "127.0.0.1", url.port
    if url.scheme == "smtps":
        smtp = smtplib.SMTP_SSL(
            host, port or 465, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port or 25, timeout=timeout)
    with smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)


def send_mail(to: str, subject: str, template: str, **context) -> bool:
    """Build and send; log and return False on failure so the caller can tell the user."""
    try:
        deliver(build_message(to, subject, template, **context))
    except (OSError, smtplib.SMTPException, ValueError):
        log.exception("could not send %r to %s", subject, to)
        return False
    return True
