"""Helpers for signup, sign-in and rate-limit tests against the session's local stack.

Requests can come from any loopback address (`fresh_ip()`): the whole 127.0.0.0/8 reaches the
gateway on 127.0.0.1, and the gateway reports the socket's peer as `sourceIp`, as API Gateway
does — so a test's per-IP counters are its own, without any header the server would trust.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

from infra.local.stack import LocalStack


def fresh_ip() -> str:
    return f"127.{secrets.randbelow(254) + 1}.{secrets.randbelow(254) + 1}.{secrets.randbelow(254) + 1}"


def call(stack: LocalStack, method: str, path: str, body: Any = None, *, source_ip: str | None = None,
         token: str | None = None) -> tuple[int, Any, dict[str, str]]:
    """Status, JSON reply and headers of one request sent from `source_ip` (default 127.0.0.1)."""
    url = urlsplit(stack.base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60,
                                            source_address=(source_ip, 0) if source_ip else None)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw or b"null"), {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


def verification_codes(stack: LocalStack, email: str) -> list[str]:
    """Every signup code mailed to `email` so far, oldest first (delivered by the real email path)."""
    stack.drain_streams()
    return [m.group(1) for mail in stack.smtp.to(email)
            if mail.subject == "Your Parley verification code"
            for m in [re.search(r"^\s+(\d{6})$", mail.text, re.MULTILINE)] if m]


def signup_verified(stack: LocalStack, company: str, email: str, password: str, website: str,
                    source_ip: str | None = None) -> dict[str, Any]:
    """Both steps of a signup (the code read from the local SMTP mailbox): `{clientId, widgetKey, trial}`."""
    ip = source_ip or fresh_ip()
    status, started, _ = call(stack, "POST", "/api/signup", {"company": company, "email": email,
                                                            "password": password, "website": website}, source_ip=ip)
    assert status == 202, started
    code = verification_codes(stack, started["email"])[-1]
    status, verified, _ = call(stack, "POST", "/api/signup/verify", {"email": email, "code": code}, source_ip=ip)
    assert status == 200, verified
    return dict(verified)
