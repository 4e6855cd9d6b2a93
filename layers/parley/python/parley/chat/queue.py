"""The waiting queue as an agent pages through it (`subscribeQueue`, docs/protocol.md).

Waiting conversations of every client the agent serves, merged in queue order (oldest or
newest first), one page at a time: one Query per client with a small Limit, never the whole
queue. The cursor is opaque to clients: the order and the position (gsi1 sort key and
conversation id) of the last conversation sent.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from parley.chat.models import Conversation
from parley.errors import InvalidRequest

QueueOrder = Literal["oldest", "newest"]
TIE_SLACK = 25  # extra items read per client: chats created in the very same millisecond as the cursor's
MAX_COUNT_PAGES = 20  # COUNT Queries per client for `waitingTotal` (1 MB each: ~20,000 waiting chats)


class WaitingSource(Protocol):
    def waiting_page(self, client_id: str, *, limit: int, newest_first: bool,
                     start: str | None) -> tuple[list[tuple[str, Conversation]], bool]: ...

    def count_waiting(self, client_id: str, max_pages: int) -> tuple[int, bool]: ...


@dataclass(frozen=True)
class QueuePosition:
    order: QueueOrder
    sort_key: str
    conversation_id: str

    def encode(self) -> str:
        raw = json.dumps([self.order, self.sort_key, self.conversation_id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, order: QueueOrder) -> QueuePosition:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            got_order, sort_key, conversation_id = json.loads(raw)
        except (ValueError, TypeError, binascii.Error) as exc:
            raise InvalidRequest("cursor: not a cursor from a previous subscribeQueue reply") from exc
        if got_order != order or not isinstance(sort_key, str) or not isinstance(conversation_id, str):
            raise InvalidRequest("cursor: it belongs to the other order; start again without a cursor")
        return cls(order, sort_key, conversation_id)


@dataclass(frozen=True)
class QueuePage:
    waiting: list[tuple[str, Conversation]]  # (sort key, conversation) in the requested order
    more: bool  # conversations after this page may exist

    def cursor_after(self, count: int, order: QueueOrder) -> str:
        sort_key, conversation = self.waiting[count - 1]
        return QueuePosition(order, sort_key, conversation.conversation_id).encode()


def _after(item: tuple[str, Conversation], position: QueuePosition | None) -> bool:
    if position is None:
        return True
    key = (item[0], item[1].conversation_id)
    mark = (position.sort_key, position.conversation_id)
    return key < mark if position.order == "newest" else key > mark


def waiting_page(source: WaitingSource, client_ids: Sequence[str], limit: int, order: QueueOrder,
                 cursor: str | None) -> QueuePage:
    """The next `limit` waiting conversations across `client_ids` after `cursor`."""
    position = QueuePosition.decode(cursor, order) if cursor is not None else None
    newest_first = order == "newest"
    merged: list[tuple[str, Conversation]] = []
    truncated = False
    for client_id in client_ids:
        found, more = source.waiting_page(client_id, limit=limit + TIE_SLACK, newest_first=newest_first,
                                          start=position.sort_key if position else None)
        merged += [item for item in found if _after(item, position)]
        truncated = truncated or more
    merged.sort(key=lambda item: (item[0], item[1].conversation_id), reverse=newest_first)
    return QueuePage(waiting=merged[:limit], more=len(merged) > limit or truncated)


def waiting_total(source: WaitingSource, client_ids: Sequence[str]) -> int:
    return sum(source.count_waiting(client_id, MAX_COUNT_PAGES)[0] for client_id in client_ids)
