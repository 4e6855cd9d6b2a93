"""Email templates: a subject, a plain-text body and a simple HTML body each, filled from a flat
mapping of strings. Values are escaped in the HTML (line breaks kept), never in the text; a
template naming a value the caller did not give is an error, not an email with a hole in it.

Add a template here (one entry in TEMPLATES) and enqueue it by name."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from string import Template

from parley.email.models import RenderedEmail

_PAGE = Template(
    '<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.45;color:#1b1f24">'
    '$body<p style="color:#6b7280;font-size:12px">Sent by Parley.</p></body></html>'
)


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class EmailTemplate:
    subject: str
    text: str
    html: str  # the inside of <body>; $values arrive escaped

    def render(self, data: Mapping[str, str]) -> RenderedEmail:
        try:
            subject = Template(self.subject).substitute(data)
            text = Template(self.text).substitute(data)
            escaped = {k: html.escape(str(v)).replace("\n", "<br>") for k, v in data.items()}
            body = Template(self.html).substitute(escaped)
        except (KeyError, ValueError) as exc:
            raise TemplateError(f"template value missing or malformed: {exc}") from exc
        # A subject is one header line: no line breaks may reach it.
        return RenderedEmail(subject=" ".join(subject.split())[:200], text=text,
                             html=_PAGE.substitute(body=body))


TEMPLATES: dict[str, EmailTemplate] = {
    # To a client's notification address when a visitor leaves an offline message (a lead).
    "lead.new": EmailTemplate(
        subject="New message from $visitor_name via $client_name's website",
        text=(
            "$visitor_name left a message on $client_name's website.\n\n"
            "Name:    $visitor_name\nEmail:   $visitor_email\nPhone:   $visitor_phone\n"
            "Page:    $page_url\nOrigin:  $origin\n\n"
            "Message:\n$message\n\n"
            "Reply to this email to answer $visitor_name directly. Lead $lead_id.\n"
        ),
        html=(
            "<p><strong>$visitor_name</strong> left a message on $client_name's website.</p>"
            "<table cellpadding=\"4\"><tr><td>Name</td><td>$visitor_name</td></tr>"
            "<tr><td>Email</td><td>$visitor_email</td></tr><tr><td>Phone</td><td>$visitor_phone</td></tr>"
            "<tr><td>Page</td><td>$page_url</td></tr><tr><td>Origin</td><td>$origin</td></tr></table>"
            "<blockquote style=\"border-left:3px solid #d0d7de;margin:12px 0;padding:4px 12px\">$message</blockquote>"
            "<p>Reply to this email to answer $visitor_name directly. Lead $lead_id.</p>"
        ),
    ),
    # To a new agent (or supervisor/admin) the admin invited: the Cognito temporary password.
    "agent.invitation": EmailTemplate(
        subject="You're invited to answer chats on Parley",
        text=(
            "Hello $name,\n\nYou have been invited to the Parley agent console.\n\n"
            "Sign in at $login_url\nUsername: $username\nTemporary password: $temporary_password\n\n"
            "You will choose your own password when you first sign in. The temporary one expires in "
            "$expires_in_days days.\n"
        ),
        html=(
            "<p>Hello $name,</p><p>You have been invited to the Parley agent console.</p>"
            "<p>Sign in at <a href=\"$login_url\">$login_url</a><br>Username: <code>$username</code><br>"
            "Temporary password: <code>$temporary_password</code></p>"
            "<p>You will choose your own password when you first sign in. The temporary one expires in "
            "$expires_in_days days.</p>"
        ),
    ),
    # To a new client's email at signup: the code that proves the mailbox (parley/auth/signup.py).
    "signup.verification": EmailTemplate(
        subject="Your Parley verification code",
        text=(
            "Hello,\n\nYour verification code for $company's Parley account is:\n\n    $code\n\n"
            "Enter it on the signup page within $expires_in_minutes minutes. If you did not sign up, "
            "ignore this email: no account is usable without the code.\n"
        ),
        html=(
            "<p>Hello,</p><p>Your verification code for $company's Parley account is:</p>"
            "<p style=\"font-size:24px;letter-spacing:4px\"><strong>$code</strong></p>"
            "<p>Enter it on the signup page within $expires_in_minutes minutes. If you did not sign up, "
            "ignore this email: no account is usable without the code.</p>"
        ),
    ),
    # --- billing (parley/ledger/mail.py): to the client's billing email, written to the outbox in
    # the same ledger transaction as the event each one reports.
    "billing.invoice_issued": EmailTemplate(
        subject="Invoice $invoice_id: $amount due by $due_date",
        text=(
            "Hello $client_name,\n\nInvoice $invoice_id was issued on $issue_date.\n\n$lines\n\n"
            "Total: $amount\nDue date: $due_date\n\n$collection\n\n$footer\n"
        ),
        html=(
            "<p>Hello $client_name,</p><p>Invoice <strong>$invoice_id</strong> was issued on $issue_date.</p>"
            "<p>$lines</p><p>Total: <strong>$amount</strong><br>Due date: <strong>$due_date</strong></p>"
            "<p>$collection</p><p>$footer</p>"
        ),
    ),
    "billing.payment_failed": EmailTemplate(
        subject="Payment failed: $amount for invoice $invoice_id, please pay by $pay_by",
        text=(
            "Hello $client_name,\n\nWe could not collect $amount for invoice $invoice_id on $failed_on"
            " ($reason).\n\nPlease pay by $pay_by (CO-13). $consequences\n\n$footer\n"
        ),
        html=(
            "<p>Hello $client_name,</p><p>We could not collect <strong>$amount</strong> for invoice $invoice_id "
            "on $failed_on ($reason).</p><p>Please pay by <strong>$pay_by</strong> (CO-13). $consequences</p>"
            "<p>$footer</p>"
        ),
    ),
    "billing.late_charge": EmailTemplate(
        subject="Late charge of $amount on invoice $for_invoice_id",
        text=(
            "Hello $client_name,\n\n$description\n\nThe late charge of $amount is invoice $invoice_id (CO-11), "
            "due now. $consequences\n\n$footer\n"
        ),
        html=(
            "<p>Hello $client_name,</p><p>$description</p><p>The late charge of <strong>$amount</strong> is invoice "
            "$invoice_id (CO-11), due now. $consequences</p><p>$footer</p>"
        ),
    ),
    "billing.trial_ending": EmailTemplate(
        subject="Your free trial ends in $days_left days ($last_day)",
        text="Hello $client_name,\n\nYour free trial ends at the end of $last_day. $next_step\n\n$footer\n",
        html=(
            "<p>Hello $client_name,</p><p>Your free trial ends at the end of <strong>$last_day</strong>. "
            "$next_step</p><p>$footer</p>"
        ),
    ),
    "billing.notice_received": EmailTemplate(
        subject="We received your cancellation notice: the service ends after $effective_date",
        text=(
            "Hello $client_name,\n\nWe received your cancellation notice of $given_on.\n\n$explanation\n\n"
            "Last day of service: $effective_date\nYou can withdraw the notice until $withdraw_until.\n\n"
            "$footer\n"
        ),
        html=(
            "<p>Hello $client_name,</p><p>We received your cancellation notice of $given_on.</p><p>$explanation</p>"
            "<p>Last day of service: <strong>$effective_date</strong><br>You can withdraw the notice until "
            "$withdraw_until.</p><p>$footer</p>"
        ),
    ),
    "billing.default_warning": EmailTemplate(
        subject="Action needed: pay $amount by $last_day_to_pay or the service ends on $default_date",
        text=(
            "Hello $client_name,\n\nInvoice $invoice_id ($amount) is still unpaid. If it is not paid in full by "
            "the end of $last_day_to_pay, the service is terminated on $default_date ($rule); everything owed "
            "stays due.\n\n$footer\n"
        ),
        html=(
            "<p>Hello $client_name,</p><p>Invoice $invoice_id (<strong>$amount</strong>) is still unpaid. If it is "
            "not paid in full by the end of <strong>$last_day_to_pay</strong>, the service is terminated on "
            "<strong>$default_date</strong> ($rule); everything owed stays due.</p><p>$footer</p>"
        ),
    ),
    "billing.terminated": EmailTemplate(
        subject="Your service was terminated on $terminated_on",
        text=(
            "Hello $client_name,\n\n$why\n\n$owed\n$reinstatement\n\nYour data (chats, visitors) is kept "
            "until $data_deletion_date, then deleted: export it before then.\n\n$footer\n"
        ),
        html=(
            "<p>Hello $client_name,</p><p>$why</p><p>$owed</p><p>$reinstatement</p><p>Your data (chats, visitors) "
            "is kept until <strong>$data_deletion_date</strong>, then deleted: export it before then.</p>"
            "<p>$footer</p>"
        ),
    ),
}


def render(template: str, data: Mapping[str, str]) -> RenderedEmail:
    try:
        chosen = TEMPLATES[template]
    except KeyError as exc:
        raise TemplateError(f"no email template {template!r}") from exc
    return chosen.render(data)
