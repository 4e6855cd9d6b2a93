"""A client's hours set through the admin API on the local stack (issue 10): the admin gives a
client Mon-Fri 09:00-17:00 in New York; the visitor session (and the admin's view) say open at
16:59 local and closed at 17:00, reopening at 09:00 the next morning, at the controllable clock.
Overlapping ranges are refused with 400 `invalid_hours` naming the range, and change nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from parley.clock import iso
from tests.integration.chat_client import Harness

pytestmark = pytest.mark.integration

NEW_YORK = ZoneInfo("America/New_York")
ORIGIN = "http://admin-hours.example"
NINE_TO_FIVE = [{"start": "09:00", "end": "17:00"}]
HOURS: dict[str, Any] = {"time_zone": "America/New_York",
         "weekly": {day: NINE_TO_FIVE for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}}


def api(stack: Any, method: str, path: str, token: str, body: Any = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "Origin": stack.base_url, "Authorization": f"Bearer {token}"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{stack.base_url}/api/admin{path}", data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def frozen(local_stack: Any) -> Iterator[Any]:
    local_stack.clock.set(local_stack.clock.now())
    try:
        yield local_stack
    finally:
        local_stack.clock.unfreeze()


def next_tuesday_to_thursday_at(now: datetime, hour: int, minute: int) -> datetime:
    day = now.astimezone(NEW_YORK).date() + timedelta(days=1)
    while day.weekday() not in (1, 2, 3):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NEW_YORK)


def test_hours_set_by_the_admin_drive_the_visitor_session(chat: Harness, frozen: Any) -> None:
    admin = chat.agent_token(frozen.demo.admin_username)
    status, created = api(frozen, "POST", "/clients", admin,
                          {"name": "Hudson Bikes", "allowedOrigins": [ORIGIN], "hours": HOURS})
    assert status == 201, created
    client = created["client"]
    assert client["hours"]["time_zone"] == "America/New_York"
    assert client["hours"]["weekly"]["monday"] == NINE_TO_FIVE and client["hours"]["weekly"]["saturday"] == []

    before = next_tuesday_to_thursday_at(frozen.clock.now(), 16, 59)
    frozen.advance(before - frozen.clock.now())
    five_pm = before + timedelta(minutes=1)
    session = chat.visitor_session(client["widget_key"], ORIGIN)
    assert (session["open"], session["nextChange"]) == (True, iso(five_pm))
    status, shown = api(frozen, "GET", f"/clients/{client['client_id']}", admin)
    assert status == 200, shown
    assert shown["client"]["availability"]["open"] is True
    assert datetime.fromisoformat(shown["client"]["availability"]["next_change"]) == five_pm

    frozen.advance(timedelta(minutes=1))
    next_morning = datetime.combine(before.date() + timedelta(days=1), datetime.min.time().replace(hour=9),
                                    tzinfo=NEW_YORK)
    session = chat.visitor_session(client["widget_key"], ORIGIN)
    assert (session["open"], session["nextChange"]) == (False, iso(next_morning))

    # Saturday added through an edit: the response says so, the rest of the hours stay.
    saturday = {**HOURS, "weekly": {**HOURS["weekly"], "saturday": [{"start": "10:00", "end": "14:00"}]}}
    status, edited = api(frozen, "PATCH", f"/clients/{client['client_id']}", admin, {"hours": saturday})
    assert status == 200, edited
    assert edited["client"]["hours"]["weekly"]["saturday"] == [{"start": "10:00", "end": "14:00"}]
    assert edited["client"]["availability"]["open"] is False


def test_overlapping_ranges_are_refused_naming_the_range_and_change_nothing(chat: Harness) -> None:
    stack = chat.stack
    admin = chat.agent_token(stack.demo.admin_username)
    status, created = api(stack, "POST", "/clients", admin,
                          {"name": "Hudson Ferries", "allowedOrigins": [ORIGIN], "hours": HOURS})
    assert status == 201, created
    path = f"/clients/{created['client']['client_id']}"
    overlapping = {**HOURS, "weekly": {"monday": [{"start": "09:00", "end": "12:00"},
                                                  {"start": "11:30", "end": "17:00"}]}}
    status, refused = api(stack, "PATCH", path, admin, {"hours": overlapping, "greeting": "Changed"})
    assert status == 400, refused
    assert refused["code"] == "invalid_hours"
    assert "weekly.monday" in refused["message"] and "09:00-12:00 and 11:30-17:00 overlap" in refused["message"]
    status, shown = api(stack, "GET", path, admin)
    assert status == 200
    assert shown["client"]["hours"] == created["client"]["hours"]
    assert shown["client"]["greeting"] == created["client"]["greeting"]

    status, refused = api(stack, "POST", "/clients", admin,
                          {"name": "Hudson Nowhere", "allowedOrigins": [ORIGIN],
                           "hours": {**HOURS, "time_zone": "America/Atlantis"}})
    assert (status, refused["code"]) == (400, "invalid_hours")
    assert "time_zone" in refused["message"]
    status, listed = api(stack, "GET", "/clients", admin)
    assert "Hudson Nowhere" not in [c["name"] for c in listed["clients"]]
