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
}


def render(template: str, data: Mapping[str, str]) -> RenderedEmail:
    try:
        chosen = TEMPLATES[template]
    except KeyError as exc:
        raise TemplateError(f"no email template {template!r}") from exc
    return chosen.render(data)
