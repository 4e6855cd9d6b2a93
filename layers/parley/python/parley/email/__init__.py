"""Email: queued in an outbox (DynamoDB), delivered over SMTP with retries.

To send an email from any feature, enqueue it; never talk to SMTP yourself:

    from parley.composition.email import email_outbox
    email_outbox().enqueue(to=["ana@example.com"], template="agent.invitation",
                           data={"name": "Ana", "username": "ana", "temporary_password": "...",
                                 "login_url": "https://..."}, key="invite-ana")

`enqueue` writes one outbox item; the `email_sender` function delivers it (the DynamoDB stream
wakes it) and the `email_retry` workflow retries failures with backoff. To write the email in
the same transaction as your own items, use `EmailOutbox.compose(...)` and
`OutboxRepository.put_request(...)` (see parley/repositories/leads.py). Templates live in
parley/email/templates.py (plain text + simple HTML). docs/email.md has the whole path.
"""

from parley.email.models import EmailStatus, OutboxEmail, RenderedEmail
from parley.email.outbox import EmailOutbox
from parley.email.port import EmailDeliveryError, EmailSender
from parley.email.templates import TEMPLATES, EmailTemplate, render

__all__ = [
    "TEMPLATES", "EmailDeliveryError", "EmailOutbox", "EmailSender", "EmailStatus", "EmailTemplate", "OutboxEmail",
    "RenderedEmail", "render",
]
