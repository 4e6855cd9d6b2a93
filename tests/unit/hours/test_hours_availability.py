"""The visitor-facing answer (open / next change), after-hours coverage (PR-2), storage on Client."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.chat.models import Client
from parley.hours import InvalidHours, availability, hours_preset, parse_hours
from parley.hours.client_hours import client_availability, with_hours
from parley.repositories.dynamo import from_item, to_item

EVENING = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # Monday Nov 30, 18:00 MST
MORNING = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # Tuesday 09:00 MST


def test_routes_now_differs_from_open_now_only_with_coverage() -> None:
    plain = hours_preset("call_on_me")
    covered = parse_hours({"preset": "call_on_me", "after_hours_coverage": True})
    assert not plain.open_now(EVENING) and not plain.routes_now(EVENING)
    assert not covered.open_now(EVENING) and covered.routes_now(EVENING)
    assert covered.routes_now(datetime(2026, 12, 25, 17, 0, tzinfo=UTC))  # Christmas Day too
    assert plain.routes_now(MORNING) and covered.routes_now(MORNING)


def test_availability_tells_when_the_client_opens() -> None:
    answer = availability(hours_preset("call_on_me"), EVENING)
    assert (answer.open, answer.within_hours) == (False, False)
    assert answer.next_change == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # "we open at 8:00" MST
    answer = availability(hours_preset("call_on_me"), MORNING)
    assert answer.open and answer.next_change == datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 17:00 MST


def test_with_coverage_chats_are_always_routed() -> None:
    answer = availability(parse_hours({"preset": "call_on_me", "after_hours_coverage": True}), EVENING)
    assert (answer.open, answer.within_hours, answer.next_change) == (True, False, None)


def test_a_client_without_hours_is_always_open() -> None:
    client = Client(client_id="c1", name="Acme", widget_key="wk")
    assert client.hours is None
    answer = client_availability(client, EVENING)
    assert (answer.open, answer.next_change) == (True, None)


def test_with_hours_validates_and_replaces() -> None:
    client = Client(client_id="c1", name="Acme", widget_key="wk")
    updated = with_hours(client, {"preset": "call_on_me"})
    assert updated.hours == hours_preset("call_on_me") and client.hours is None
    assert not client_availability(updated, EVENING).open
    assert with_hours(updated, None).hours is None
    with pytest.raises(InvalidHours):
        with_hours(client, {"time_zone": "UTC", "weekly": {"monday": [{"start": "9", "end": "17:00"}]}})


def test_hours_survive_the_dynamodb_item_and_old_items_have_none() -> None:
    client = with_hours(Client(client_id="c1", name="Acme", widget_key="wk"), {"preset": "call_on_me"})
    item = to_item({"pk": "CLIENT#c1", "sk": "PROFILE", **client.model_dump(mode="json")})
    assert Client.model_validate(from_item(item)) == client
    legacy = {"client_id": "c0", "name": "Old", "widget_key": "wk0"}  # written before hours existed
    assert Client.model_validate(legacy).hours is None
