"""The SMTP adapter of the EmailSender port (stdlib smtplib), one code path for both worlds:

* AWS: Amazon SES's SMTP interface (`email-smtp.{region}.amazonaws.com:587`, STARTTLS, the SMTP
  credentials of a Secrets Manager secret), with the SES configuration set named in a header;
* local: the aiosmtpd server the local stack runs on 127.0.0.1 (no TLS, no login).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from parley.email.models import OutboxEmail
from parley.email.port import EmailDeliveryError


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    from_address: str
    username: str = ""
    password: str = ""
    starttls: bool = True
    configuration_set: str = ""  # SES: events (bounces, complaints) go to this configuration set
    timeout_seconds: float = 10.0


def build_message(email: OutboxEmail, settings: SmtpSettings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.from_address
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.created_at)
    domain = settings.from_address.rpartition("@")[2] or "parley.local"
    # Stable per outbox item: a retry after a lost answer is recognisable as the same message.
    message["Message-ID"] = make_msgid(idstring=email.email_id, domain=domain)
    message["X-Parley-Email-Id"] = email.email_id
    message["X-Parley-Template"] = email.template
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    if settings.configuration_set:
        message["X-SES-CONFIGURATION-SET"] = settings.configuration_set
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message


class SmtpEmailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self._settings = settings

    def send(self, email: OutboxEmail) -> None:
        s = self._settings
        message = build_message(email, s)
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                smtp.ehlo()
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    smtp.login(s.username, s.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise EmailDeliveryError(f"recipients refused: {codes}", permanent=all(c >= 500 for c in codes)) from exc
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            raise EmailDeliveryError(f"refused ({exc.smtp_code})", permanent=exc.smtp_code >= 500) from exc
        except (smtplib.SMTPException, OSError) as exc:  # down, timeout, TLS, auth: worth retrying
            raise EmailDeliveryError(f"{type(exc).__name__}: {exc}") from exc
