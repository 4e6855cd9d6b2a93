"""Identifiers: time-ordered and unguessable (48-bit ms timestamp + 80 random bits, base32)."""

from __future__ import annotations

import secrets

from parley.clock import utcnow

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = int(utcnow().timestamp() * 1000)
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(80), 16)}"
