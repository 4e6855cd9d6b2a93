"""Signed visitor tokens: `base64url(payload).base64url(HMAC-SHA256)`.

The payload names the client and the visitor and an expiry; the secret comes from Secrets
Manager (its name from configuration), cached by Powertools parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from parley.errors import Unauthorized


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class VisitorClaims:
    client_id: str
    visitor_id: str
    expires_at: datetime


class VisitorTokens:
    def __init__(self, secret: bytes, ttl: timedelta) -> None:
        if len(secret) < 32:
            raise ValueError("the visitor token secret must be at least 32 bytes")
        self._secret = secret
        self._ttl = ttl

    def issue(self, client_id: str, visitor_id: str, now: datetime) -> tuple[str, datetime]:
        expires = now + self._ttl
        payload = _b64(json.dumps({"c": client_id, "v": visitor_id, "e": int(expires.timestamp())},
                                  separators=(",", ":")).encode())
        return f"{payload}.{self._sign(payload)}", expires

    def verify(self, token: str, now: datetime) -> VisitorClaims:
        try:
            payload, signature = token.split(".")
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise Unauthorized("the visitor token is not valid")
            data = json.loads(_unb64(payload))
            claims = VisitorClaims(client_id=str(data["c"]), visitor_id=str(data["v"]),
                                   expires_at=datetime.fromtimestamp(int(data["e"]), tz=now.tzinfo))
        except (ValueError, KeyError, TypeError) as exc:
            raise Unauthorized("the visitor token is not valid") from exc
        if claims.expires_at <= now:
            raise Unauthorized("the visitor token has expired")
        return claims

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._secret, payload.encode(), hashlib.sha256).digest())
