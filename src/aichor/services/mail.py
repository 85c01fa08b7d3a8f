"""Outgoing e-mail over SMTP, when `AICHOR_SMTP_HOST` is set; otherwise nothing is sent."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from aichor.settings import Settings


def smtp_configured(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def send(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; SMTP errors propagate (the caller decides)."""
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)
