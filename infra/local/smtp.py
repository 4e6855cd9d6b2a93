"""The local mail server: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives,
so a person can read it at /_local/mail and tests can assert on it. The very SMTP adapter that
talks to Amazon SES on AWS talks to this one (no TLS, no login).

`stop()` and `start()` again on the same port simulate a mail server outage."""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import escape
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

MAX_KEPT = 500  # the oldest go first: `make dev` may run for days


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    recipients: tuple[str, ...]
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def public(self) -> dict[str, Any]:
        return {"from": self.mail_from, "to": list(self.recipients), "subject": self.subject, "text": self.text,
                "html": self.html, "headers": self.headers, "receivedAt": self.received_at.isoformat()}


def _parse(envelope: Envelope) -> ReceivedMail:
    raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    return ReceivedMail(
        mail_from=str(envelope.mail_from), recipients=tuple(envelope.rcpt_tos), subject=str(message["Subject"] or ""),
        text=text_part.get_content().replace("\r\n", "\n") if text_part is not None else "",
        html=html_part.get_content().replace("\r\n", "\n") if html_part is not None else "",
        headers={k: str(v) for k, v in message.items()},
    )


class _Mailbox:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.messages: list[ReceivedMail] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # the name aiosmtpd calls
        mail = _parse(envelope)
        with self._lock:
            self.messages.append(mail)
            del self.messages[:-MAX_KEPT]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalSmtpServer:
    def __init__(self, port: int = 0) -> None:
        self.host = "127.0.0.1"
        self.port = port or _free_port()
        self._mailbox = _Mailbox()
        self._controller: Controller | None = None

    def start(self) -> LocalSmtpServer:
        if self._controller is None:
            self._controller = Controller(self._mailbox, hostname=self.host, port=self.port, ready_timeout=10)
            self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._mailbox._lock:
            return list(self._mailbox.messages)

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.messages if address in m.recipients]


def add_mail_routes(app: web.Application, server: LocalSmtpServer) -> None:
    """GET /_local/mail: what the local SMTP server received, newest first (HTML for a person);
    GET /_local/mail.json: the same as JSON (optional ?to=address)."""

    def selected(request: web.Request) -> list[ReceivedMail]:
        to = request.query.get("to")
        return list(reversed(server.to(to) if to else server.messages))

    async def as_json(request: web.Request) -> web.Response:
        return web.json_response({"running": server.running, "messages": [m.public() for m in selected(request)]})

    async def as_html(request: web.Request) -> web.Response:
        rows = "".join(
            f"<details><summary><b>{escape(m.subject)}</b> — to {escape(', '.join(m.recipients))} · "
            f"{escape(m.received_at.strftime('%Y-%m-%d %H:%M:%S'))} UTC</summary>"
            f"<p>From {escape(m.mail_from)}</p><pre>{escape(m.text)}</pre>"
            f"<iframe sandbox srcdoc=\"{escape(m.html)}\" style=\"width:100%;height:320px;border:1px solid #ddd\">"
            "</iframe></details>"
            for m in selected(request)
        ) or "<p>No mail yet.</p>"
        state = "running" if server.running else "stopped"
        page = (f"<!doctype html><meta charset=utf-8><title>Local mail</title>"
                f"<body style=\"font-family:system-ui;max-width:900px;margin:2em auto\"><h1>Local mail</h1>"
                f"<p>SMTP server on {server.host}:{server.port} ({state}). "
                f"JSON: <a href=\"mail.json\">mail.json</a></p>"
                f"{rows}</body>")
        return web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-cache"})

    app.router.add_get("/_local/mail", as_html)
    app.router.add_get("/_local/mail.json", as_json)
