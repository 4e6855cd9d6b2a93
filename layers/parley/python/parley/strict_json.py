"""JSON from untrusted senders, bounded before it is parsed: a size and a nesting-depth limit
checked on the raw text (so a 2,000-deep array never reaches the recursive parser), and lone
UTF-16 surrogates (``"\\ud800"``) refused, since no store or encoder downstream can take them.

Shared by the WebSocket frames (parley.chat.frames), the HTTP bodies (parley.http) and the
Stripe webhook's shape check, so that every door refuses the same inputs the same way.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Any

# A JSON string literal (escapes included); what is left once they are cut out holds the brackets.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class Refusal(StrEnum):
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    NOT_JSON = "not_json"
    LONE_SURROGATE = "lone_surrogate"


class JsonRefused(ValueError):
    """The text is not accepted; `reason` says which bound it broke (callers map it to their code)."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in `text`, counted without parsing it."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        depth = depth + 1 if bracket in "[{" else depth - 1
        deepest = max(deepest, depth)
    return deepest


def has_lone_surrogate(value: Any) -> bool:
    """Whether a string anywhere in `value` (keys included) holds a lone surrogate. Only call on
    values of bounded depth (what `load` returns): it recurses."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_lone_surrogate(k) or has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_lone_surrogate(v) for v in value)
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _text(raw: str | bytes | None, max_bytes: int) -> str:
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        if len(raw) > max_bytes:
            raise JsonRefused(Refusal.TOO_LARGE, f"the JSON is {len(raw)} bytes; the limit is {max_bytes}")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonRefused(Refusal.NOT_JSON, "the JSON is not valid UTF-8") from exc
    # A character is at least one byte: the cheap check first, the exact one for what may fit.
    size = len(raw) if len(raw) > max_bytes else len(raw.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JsonRefused(Refusal.TOO_LARGE, f"the JSON is {size} bytes; the limit is {max_bytes}")
    return raw


def load(raw: str | bytes | None, *, max_bytes: int, max_depth: int) -> Any:
    """Parse `raw` if it is within `max_bytes` (UTF-8) and `max_depth` levels of arrays/objects
    and holds no lone surrogate; raise `JsonRefused` otherwise. Duplicate keys: the last wins
    (as in every JSON parser the clients use)."""
    text = _text(raw, max_bytes)
    if nesting_depth(text) > max_depth:
        raise JsonRefused(Refusal.TOO_DEEP, f"the JSON is nested more than {max_depth} levels deep")
    try:
        data = json.loads(text, parse_constant=_no_constants)  # NaN, Infinity
    except ValueError as exc:  # JSONDecodeError, and a lone surrogate the decoder cannot pair
        raise JsonRefused(Refusal.NOT_JSON, "the text is not valid JSON") from exc
    if has_lone_surrogate(data):
        raise JsonRefused(Refusal.LONE_SURROGATE, "a string holds a lone UTF-16 surrogate (not valid Unicode)")
    return data
