"""Composition root of email: the outbox (any function that enqueues) and the SMTP delivery
(only functions whose FunctionSpec says `sends_email`, which get these variables):

    PARLEY_SMTP_HOST, PARLEY_SMTP_PORT, PARLEY_SMTP_STARTTLS ("true"/"false"),
    PARLEY_SMTP_SECRET_NAME (Secrets Manager, JSON {"username", "password"}; empty locally),
    PARLEY_EMAIL_FROM, PARLEY_SES_CONFIGURATION_SET (empty locally)
"""

from __future__ import annotations

import os
from functools import lru_cache

from aws_lambda_powertools.utilities import parameters
from pydantic import BaseModel

from parley import aws
from parley.clock import get_clock
from parley.email.outbox import EmailDelivery, EmailOutbox
from parley.email.smtp import SmtpEmailSender, SmtpSettings
from parley.repositories.outbox import OutboxRepository
from parley.settings import get_settings


class EmailSettings(BaseModel):
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_secret_name: str = ""
    from_address: str = ""
    configuration_set: str = ""


@lru_cache(maxsize=1)
def email_settings() -> EmailSettings:
    env = os.environ
    return EmailSettings(
        smtp_host=env.get("PARLEY_SMTP_HOST", ""),
        smtp_port=int(env.get("PARLEY_SMTP_PORT", "587")),
        smtp_starttls=env.get("PARLEY_SMTP_STARTTLS", "true").lower() in ("1", "true", "yes"),
        smtp_secret_name=env.get("PARLEY_SMTP_SECRET_NAME", ""),
        from_address=env.get("PARLEY_EMAIL_FROM", ""),
        configuration_set=env.get("PARLEY_SES_CONFIGURATION_SET", ""),
    )


def outbox_repository() -> OutboxRepository:
    return OutboxRepository(aws.dynamodb(), get_settings().data_table)


def email_outbox() -> EmailOutbox:
    return EmailOutbox(outbox_repository(), get_clock())


def smtp_credentials(secret_name: str) -> tuple[str, str]:
    if not secret_name:
        return "", ""
    value = dict(parameters.get_secret(secret_name, transform="json", max_age=300))
    return str(value.get("username", "")), str(value.get("password", ""))


def email_delivery() -> EmailDelivery:
    s = email_settings()
    if not s.smtp_host or not s.from_address:
        raise RuntimeError("PARLEY_SMTP_HOST and PARLEY_EMAIL_FROM must be set for a function that sends email")
    username, password = smtp_credentials(s.smtp_secret_name)
    sender = SmtpEmailSender(SmtpSettings(host=s.smtp_host, port=s.smtp_port, from_address=s.from_address,
                                          username=username, password=password, starttls=s.smtp_starttls,
                                          configuration_set=s.configuration_set))
    return EmailDelivery(outbox_repository(), sender, get_clock())


def reset() -> None:
    email_settings.cache_clear()
