"""Replies within API Gateway's WebSocket message limit (128 KB, docs/protocol.md "Paged replies").

A route response or a post over the limit is not delivered (the local gateway refuses it as AWS
does), so lists that can grow — a conversation's messages, the waiting queue — are cut by their
serialized size: filled in order until the next item would cross the budget, with `hasMore` /
`nextCursor` telling the client to ask for the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

MAX_MESSAGE_BYTES = 128 * 1024  # API Gateway's WebSocket message quota
LIST_BUDGET_BYTES = 120 * 1024  # a list's share of one frame: the envelope keeps the rest
ENVELOPE_ALLOWANCE = 512  # `type`, `action`, `requestId` (≤ 64 chars) around the reply's `data`


def encoded_size(value: Any) -> int:
    """Bytes of `value` as frames are sent (ws.frame_response: compact, ASCII-escaped JSON)."""
    return len(json.dumps(value, separators=(",", ":")).encode())


def budget_for(envelope: dict[str, Any]) -> int:
    """What a list may take in a reply whose other fields are `envelope` (with the list empty)."""
    return min(LIST_BUDGET_BYTES, MAX_MESSAGE_BYTES - encoded_size(envelope) - ENVELOPE_ALLOWANCE)


def fill(items: Sequence[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], bool]:
    """The longest prefix of `items` whose JSON array fits `budget` bytes (at least one item, so
    a client always moves on) and whether items were left out."""
    taken: list[dict[str, Any]] = []
    used = 2  # the brackets
    for item in items:
        size = encoded_size(item) + (1 if taken else 0)  # the comma
        if taken and used + size > budget:
            return taken, True
        taken.append(item)
        used += size
    return taken, False
