"""A client's hours through the admin service (issue 10): set at onboarding, replaced, removed;
a refused body (400 `invalid_hours` naming the field) changes nothing; the admin's view carries
whether the client is open at an instant and when that changes, at the edges of a range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from parley.admin.hours import client_view
from parley.admin.requests import ClientSettingsPatch, OnboardClient
from parley.errors import InvalidRequest
from parley.hours import InvalidHours
from tests.unit.admin.conftest import AdminWorld

NINE_TO_FIVE = [{"start": "09:00", "end": "17:00"}]
WEEKDAY_HOURS: dict[str, Any] = {
    "time_zone": "Europe/Madrid",
    "weekly": {day: NINE_TO_FIVE for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
    "holidays": {"closed_days": [{"label": "Stocktaking", "on": {"kind": "date", "day": "2026-12-02"}}],
                 "short_days": [{"label": "Eve", "on": {"kind": "date", "day": "2026-12-24"},
                                 "ranges": [{"start": "09:00", "end": "13:00"}]}]},
}


def _onboard(world: AdminWorld, **extra: object) -> str:
    request = OnboardClient.model_validate({"name": "Harbour Tiles", "allowedOrigins": ["https://tiles.test"],
                                            **extra})
    return world.service.onboard_client(request).client_id


def _edit(world: AdminWorld, client_id: str, body: dict[str, Any]) -> None:
    world.service.edit_client(client_id, ClientSettingsPatch.model_validate(body))


def test_onboarding_stores_the_hours_as_validated(world: AdminWorld) -> None:
    client_id = _onboard(world, hours=WEEKDAY_HOURS)
    stored = world.tenants.get_client(client_id)
    assert stored is not None and stored.hours is not None
    assert stored.hours.time_zone == "Europe/Madrid"
    assert [str(r) for r in stored.hours.weekly.friday] == ["09:00-17:00"]
    assert stored.hours.weekly.saturday == ()
    assert [d.label for d in stored.hours.holidays.closed_days] == ["Stocktaking"]
    assert [str(r) for r in stored.hours.holidays.short_days[0].ranges] == ["09:00-13:00"]


def test_an_edit_replaces_the_hours_with_a_preset_and_null_removes_them(world: AdminWorld) -> None:
    client_id = _onboard(world, hours=WEEKDAY_HOURS, greeting="Hello")
    _edit(world, client_id, {"hours": {"preset": "call_on_me", "after_hours_coverage": True}})
    stored = world.tenants.get_client(client_id)
    assert stored is not None and stored.hours is not None
    assert (stored.hours.preset, stored.hours.time_zone, stored.hours.after_hours_coverage) == (
        "call_on_me", "Etc/GMT+7", True)
    assert len(stored.hours.holidays.closed_days) == 7  # CO-8's closed days came with the preset
    assert stored.greeting == "Hello"  # other settings untouched

    _edit(world, client_id, {"hours": None})
    stored = world.tenants.get_client(client_id)
    assert stored is not None and stored.hours is None


def test_an_edit_without_hours_keeps_them(world: AdminWorld) -> None:
    client_id = _onboard(world, hours=WEEKDAY_HOURS)
    _edit(world, client_id, {"greeting": "Bienvenido"})
    stored = world.tenants.get_client(client_id)
    assert stored is not None and stored.hours is not None and stored.hours.time_zone == "Europe/Madrid"
    assert stored.greeting == "Bienvenido"


OVERLAP = {**WEEKDAY_HOURS, "weekly": {"monday": [{"start": "08:00", "end": "12:00"},
                                                  {"start": "11:00", "end": "13:00"}]}}


@pytest.mark.parametrize(("hours", "field", "words"), [
    (OVERLAP, "weekly.monday", "08:00-12:00 and 11:00-13:00 overlap"),
    ({**WEEKDAY_HOURS, "time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus"),
    ({**WEEKDAY_HOURS, "weekly": {"tuesday": [{"start": "17:00", "end": "09:00"}]}}, "weekly.tuesday[0].end",
     "later than start"),
    ({**WEEKDAY_HOURS, "weekly": {"funday": NINE_TO_FIVE}}, "weekly.funday", ""),
    ({"preset": "night_owl"}, "preset", "unknown preset"),
    ("9 to 5", "", "must be an object"),
])
def test_bad_hours_are_refused_naming_the_field_and_change_nothing(
        world: AdminWorld, hours: Any, field: str, words: str) -> None:
    client_id = _onboard(world, hours=WEEKDAY_HOURS, greeting="Hello")
    before = world.tenants.get_client(client_id)
    with pytest.raises(InvalidHours) as refused:
        _edit(world, client_id, {"hours": hours, "greeting": "Changed"})
    assert refused.value.code == "invalid_hours" and refused.value.status == 400
    assert field in refused.value.fields
    assert words in str(refused.value)
    assert world.tenants.get_client(client_id) == before  # neither the hours nor the greeting changed


def test_bad_hours_at_onboarding_store_no_client(world: AdminWorld) -> None:
    with pytest.raises(InvalidHours, match=r"weekly\.monday"):
        _onboard(world, hours=OVERLAP)
    assert world.service.list_clients() == []


def test_null_is_still_refused_for_other_settings(world: AdminWorld) -> None:
    client_id = _onboard(world)
    with pytest.raises(InvalidRequest, match="greeting: must not be null"):
        _edit(world, client_id, {"greeting": None, "hours": None})


def _view_at(world: AdminWorld, client_id: str, at: datetime) -> dict[str, Any]:
    client = world.tenants.get_client(client_id)
    assert client is not None
    view: dict[str, Any] = client_view(client, at)["availability"]
    return view


def test_the_view_says_open_until_five_and_closed_from_five_madrid_time(world: AdminWorld) -> None:
    client_id = _onboard(world, hours=WEEKDAY_HOURS)
    # Thursday 2026-12-03; Madrid is UTC+1 in December: 17:00 local = 16:00Z.
    last_open_minute = datetime(2026, 12, 3, 15, 59, tzinfo=UTC)
    assert _view_at(world, client_id, last_open_minute) == {
        "open": True, "within_hours": True, "next_change": "2026-12-03T16:00:00Z"}
    assert _view_at(world, client_id, last_open_minute + timedelta(minutes=1)) == {
        "open": False, "within_hours": False, "next_change": "2026-12-04T08:00:00Z"}  # Friday 09:00 Madrid
    # The closed date: Wednesday 2026-12-02 at noon, closed all day, opens Thursday 09:00.
    assert _view_at(world, client_id, datetime(2026, 12, 2, 11, 0, tzinfo=UTC)) == {
        "open": False, "within_hours": False, "next_change": "2026-12-03T08:00:00Z"}


def test_the_view_of_a_covered_client_is_open_outside_hours(world: AdminWorld) -> None:
    client_id = _onboard(world, hours={**WEEKDAY_HOURS, "after_hours_coverage": True})
    view = _view_at(world, client_id, datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # a Saturday
    assert (view["open"], view["within_hours"]) == (True, False)


def test_the_view_of_a_client_without_hours_is_always_open(world: AdminWorld) -> None:
    client_id = _onboard(world)
    view = client_view(world.tenants.get_client(client_id), datetime(2026, 12, 5, 3, 0, tzinfo=UTC))  # type: ignore[arg-type]
    assert view["hours"] is None
    assert view["availability"] == {"open": True, "within_hours": True, "next_change": None}
