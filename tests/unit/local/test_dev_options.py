"""`make dev START=… POLICY=…` (python -m infra.local --start/--policy): where the business clock
starts, in the policy's zone, and a clear refusal of a bad date."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

import pytest

from infra.local.__main__ import business_start
from parley.billing.policy import BillingPolicy


@pytest.mark.parametrize("policy", ["call_on_me", "chat_outsource"])
def test_a_start_date_is_9_am_that_day_in_the_policys_zone(policy: str) -> None:
    zone = BillingPolicy.from_preset(policy).zone
    start = business_start("2027-01-05", policy)
    assert start is not None and start.astimezone(zone).replace(tzinfo=None) == datetime(2027, 1, 5, 9)


def test_a_date_time_keeps_its_offset_and_one_without_is_in_the_policys_zone() -> None:
    assert business_start("2027-01-05T08:30:00+00:00", "call_on_me") == datetime(2027, 1, 5, 8, 30, tzinfo=UTC)
    local = business_start("2027-01-05T17:00", "chat_outsource")
    assert local is not None and local.utcoffset() == datetime(2027, 1, 5, 17, tzinfo=BillingPolicy.from_preset(
        "chat_outsource").zone).utcoffset()


def test_no_start_keeps_the_real_time_and_a_bad_date_is_refused() -> None:
    assert business_start(None, "call_on_me") is None
    with pytest.raises(argparse.ArgumentTypeError, match="'2027-02-30' is not YYYY-MM-DD"):
        business_start("2027-02-30", "call_on_me")
