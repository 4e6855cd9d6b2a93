"""The port every email leaves through. The one adapter (parley/email/smtp.py) speaks SMTP: to
Amazon SES's SMTP endpoint on AWS, to the local aiosmtpd server in the local stack."""

from __future__ import annotations

from typing import Protocol

from parley.email.models import OutboxEmail


class EmailDeliveryError(Exception):
    """Sending failed. `permanent` when the server refused the message for good (5xx: a bad
    recipient, a rejected sender); otherwise (connection refused, timeout, 4xx) it may be retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class EmailSender(Protocol):
    def send(self, email: OutboxEmail) -> None:
        """Hand the email to the mail server, or raise EmailDeliveryError."""
        ...
