"""Size paging (parley.chat.paging) and the queue's merged pages and cursors (parley.chat.queue)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from parley.chat import paging, queue
from parley.chat.models import Conversation, ConversationStatus
from parley.errors import InvalidRequest

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_fill_stops_before_the_item_that_would_cross_the_budget() -> None:
    items = [{"text": "x" * 90} for _ in range(5)]  # 102 bytes each as JSON
    one = paging.encoded_size(items[0])
    page, cut = paging.fill(items, budget=2 + 3 * one + 2)  # brackets, three items, two commas
    assert (len(page), cut) == (3, True)
    assert paging.encoded_size(page) <= 2 + 3 * one + 2
    page, cut = paging.fill(items, budget=2 + 3 * one + 1)  # one byte short of the third comma
    assert (len(page), cut) == (2, True)
    assert paging.fill(items, budget=10_000) == (items, False)


def test_fill_always_takes_one_item_so_a_client_moves_on() -> None:
    assert paging.fill([{"text": "y" * 500}], budget=10) == ([{"text": "y" * 500}], False)


def test_the_budget_leaves_room_for_the_envelope_under_128_kb() -> None:
    envelope = {"conversation": {"preview": "z" * 20_000}, "messages": [], "hasMore": True}
    budget = paging.budget_for(envelope)
    assert budget + paging.encoded_size(envelope) + paging.ENVELOPE_ALLOWANCE <= paging.MAX_MESSAGE_BYTES
    assert paging.budget_for({"messages": []}) == paging.LIST_BUDGET_BYTES


class Source:
    """Two clients' queues in memory, answering like ChatRepository.waiting_page."""

    def __init__(self, per_client: dict[str, int]) -> None:
        self.rows: dict[str, list[tuple[str, Conversation]]] = {}
        for n, (client_id, count) in enumerate(per_client.items()):
            self.rows[client_id] = [
                (f"2026-12-01T12:{i:02d}:{n:02d}.000Z", Conversation(
                    conversation_id=f"cv_{client_id}_{i:02d}", client_id=client_id, status=ConversationStatus.WAITING,
                    visitor_id="v", created_at=T0 + timedelta(minutes=i, seconds=n)))
                for i in range(count)]

    def waiting_page(self, client_id: str, *, limit: int, newest_first: bool,
                     start: str | None) -> tuple[list[tuple[str, Conversation]], bool]:
        rows = sorted(self.rows[client_id], key=lambda r: r[0], reverse=newest_first)
        if start is not None:
            rows = [r for r in rows if (r[0] <= start if newest_first else r[0] >= start)]
        return rows[:limit], len(rows) > limit

    def count_waiting(self, client_id: str, max_pages: int) -> tuple[int, bool]:
        return len(self.rows[client_id]), True


@pytest.mark.parametrize("order", ["oldest", "newest"])
def test_pages_merge_the_clients_in_order_and_the_cursor_walks_them_all(order: queue.QueueOrder) -> None:
    source = Source({"cl_a": 30, "cl_b": 17})
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = queue.waiting_page(source, ["cl_a", "cl_b"], 10, order, cursor)
        seen += [c.conversation_id for _, c in page.waiting]
        if not page.more:
            break
        cursor = page.cursor_after(len(page.waiting), order)
    keys = sorted((k, c.conversation_id) for rows in source.rows.values() for k, c in rows)
    expected = [cid for _, cid in (reversed(keys) if order == "newest" else keys)]
    assert seen == expected and len(seen) == 47
    assert queue.waiting_total(source, ["cl_a", "cl_b"]) == 47


def test_a_cursor_of_the_other_order_or_not_a_cursor_is_refused() -> None:
    source = Source({"cl_a": 5})
    page = queue.waiting_page(source, ["cl_a"], 2, "newest", None)
    cursor = page.cursor_after(2, "newest")
    with pytest.raises(InvalidRequest):
        queue.waiting_page(source, ["cl_a"], 2, "oldest", cursor)
    for bad in ("not a cursor", "e30", "W10"):
        with pytest.raises(InvalidRequest):
            queue.waiting_page(source, ["cl_a"], 2, "oldest", bad)
