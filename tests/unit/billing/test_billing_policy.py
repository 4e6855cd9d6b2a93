"""BillingPolicy: presets reproduce the seeds; overrides are validated with messages naming the field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from parley.billing import (
    CALL_ON_ME_HOLIDAYS,
    US_FEDERAL_HOLIDAYS,
    BillingPolicy,
    ConfigError,
    DefaultRule,
    load_billing_policy,
)

from .support import d


def test_presets_call_on_me_reproduces_seed_003(com: BillingPolicy) -> None:
    assert com.preset == "call_on_me"
    assert com.time_zone == "Etc/GMT+7"  # CO-8: MST, UTC-7, no DST
    assert com.currency == "USD"
    assert com.unit == "engaged_chat"  # CO-7 Decision
    assert (com.rounding_increment_seconds, com.answer_grace_seconds) == (30, 4)  # CO-7
    # CO-4: the seed's $1.75 trial usage fee is the receptionist service's; none for chat (ruling)
    assert (com.trial_length_days, com.trial_unit_limit, com.trial_overage_unit_cents) == (14, 500, None)
    assert com.trial_limit_converts_to_paid is True  # CO-4
    assert com.setup_fee_cents == 9500  # CO-5
    assert com.payment_due_days == 10  # CO-10
    assert (com.late_charge_percent, com.late_charge_days_after_due) == (Decimal(5), 10)  # CO-11
    assert com.default_rule == DefaultRule(anchor="billing_date", days=30)  # CO-10
    assert com.failed_payment_days == 10  # CO-13
    assert com.auto_upgrade is False
    assert (com.notice_days, com.notice_day_kind, com.notice_requires_reason) == (30, "calendar", False)  # CO-2
    assert (com.cancellation_effective, com.free_cancellation_window_days) == ("end_of_cycle", 30)  # CO-2
    assert com.final_balance_due_business_days is None
    assert com.tax_rate_basis_points == 0  # CH-3
    assert com.business_calendar == CALL_ON_ME_HOLIDAYS  # CO-8


def test_presets_chat_outsource_reproduces_seed_000(cho: BillingPolicy) -> None:
    assert cho.preset == "chat_outsource"
    assert cho.unit == "engaged_chat"
    assert (cho.trial_length_days, cho.trial_unit_limit, cho.trial_overage_unit_cents) == (0, None, None)  # CH-1
    assert cho.setup_fee_cents == 0
    assert cho.payment_due_days == 0  # CH-10: Due Date = Billing Date
    assert cho.late_charge_percent == 0
    assert cho.default_rule == DefaultRule(anchor="due_date", days=3)  # CH-10
    assert cho.auto_upgrade is True  # CH-5
    assert (cho.notice_days, cho.notice_day_kind, cho.notice_requires_reason) == (7, "business", True)  # CH-9
    assert (cho.cancellation_effective, cho.free_cancellation_window_days) == ("end_of_notice", None)
    assert cho.final_balance_due_business_days == 3  # CH-9
    assert cho.tax_rate_basis_points == 0  # CH-3
    assert cho.business_calendar == US_FEDERAL_HOLIDAYS


def test_presets_policy_is_frozen(com: BillingPolicy) -> None:
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError on frozen assignment
        com.setup_fee_cents = 0  # type: ignore[misc]


def test_co11_override_valid_value_is_applied() -> None:
    policy = BillingPolicy.from_preset("call_on_me", late_charge_percent=Decimal("2.5"), tax_rate_basis_points=825)
    assert policy.late_charge_percent == Decimal("2.5")
    assert policy.tax_rate_basis_points == 825
    assert policy.setup_fee_cents == 9500  # the rest of the preset is kept


def test_co11_invalid_late_charge_percent_message_names_field() -> None:
    with pytest.raises(ConfigError) as info:
        BillingPolicy.from_preset("call_on_me", late_charge_percent=101)
    assert str(info.value) == "billing policy: late_charge_percent: must be between 0 and 100"
    assert info.value.fields == ("late_charge_percent",)
    assert info.value.code == "billing_config_invalid"


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"unit": "chats"}, "billing policy: unit: must be 'engaged_chat' or 'agent_minutes'"),
        ({"surprise": 1}, "billing policy: surprise: is not a known setting"),
        ({"setup_fee_cents": -5}, "billing policy: setup_fee_cents: must be at least 0"),
        ({"setup_fee_cents": "ninety"}, "billing policy: setup_fee_cents: must be a whole number"),
        ({"payment_due_days": 4000}, "billing policy: payment_due_days: must be between 0 and 3650"),
        ({"tax_rate_basis_points": 10001}, "billing policy: tax_rate_basis_points: must be between 0 and 10000"),
        ({"notice_day_kind": "weeks"}, "billing policy: notice_day_kind: must be 'calendar' or 'business'"),
        (
            {"default_rule": {"anchor": "due_date", "days": -1}},
            "billing policy: default_rule.days: must be between 0 and 365",
        ),
        (
            {"trial_length_days": 0},
            "billing policy: trial_unit_limit: must be null when trial_length_days is 0 (no trial)",
        ),
        (
            {"unit": "agent_minutes", "rounding_increment_seconds": 10},
            "billing policy: rounding_increment_seconds: must be a multiple of 3 seconds when billing "
            "agent_minutes (e.g. 6, 15, 30, 60) so minutes are exact",
        ),
    ],
)
def test_policy_invalid_override_message_names_field(overrides: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        BillingPolicy.from_preset("call_on_me", **overrides)
    assert str(info.value) == expected


def test_policy_invalid_time_zone_names_field() -> None:
    with pytest.raises(ConfigError) as info:
        BillingPolicy.from_preset("chat_outsource", time_zone="Mars/Olympus")
    assert info.value.fields == ("time_zone",)
    assert "Mars/Olympus" in str(info.value)


def test_policy_unknown_preset() -> None:
    with pytest.raises(ConfigError) as info:
        BillingPolicy.from_preset("acme")
    assert info.value.fields == ("preset",)
    assert "call_on_me, chat_outsource" in str(info.value)


def test_policy_several_problems_are_all_reported() -> None:
    with pytest.raises(ConfigError) as info:
        BillingPolicy.from_preset("call_on_me", late_charge_percent=-1, setup_fee_cents=-1)
    assert set(info.value.fields) == {"late_charge_percent", "setup_fee_cents"}


def test_co8_business_date_is_utc_minus_7_without_dst(com: BillingPolicy) -> None:
    # 06:59 UTC is 23:59 the previous day in MST, in winter and in summer alike
    assert com.business_date(datetime(2025, 1, 15, 6, 59, tzinfo=UTC)) == d("2025-01-14")
    assert com.business_date(datetime(2025, 7, 15, 6, 59, tzinfo=UTC)) == d("2025-07-14")
    assert com.business_date(datetime(2025, 7, 15, 7, 0, tzinfo=UTC)) == d("2025-07-15")


def test_co8_fixed_offset_zone_equals_etc_gmt_plus_7() -> None:
    fixed = BillingPolicy.from_preset("call_on_me", time_zone="UTC-07:00")
    moment = datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    assert fixed.business_date(moment) == d("2025-03-08")


def test_policy_naive_datetime_is_refused(com: BillingPolicy) -> None:
    from parley.billing import NaiveDatetimeError

    with pytest.raises(NaiveDatetimeError):
        com.business_date(datetime(2025, 1, 1, 12, 0))


def test_policy_file_with_preset_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"preset": "call_on_me", "late_charge_percent": "2.5"}))
    policy = load_billing_policy(path)
    assert policy.late_charge_percent == Decimal("2.5")


def test_policy_file_errors_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"preset": "call_on_me", "late_charge_percent": 150}))
    with pytest.raises(ConfigError) as info:
        load_billing_policy(path)
    assert str(info.value) == f"billing policy {path}: late_charge_percent: must be between 0 and 100"


def test_policy_file_invalid_json_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ConfigError, match="invalid JSON at line 1"):
        load_billing_policy(bad)
    with pytest.raises(ConfigError, match="cannot read file"):
        load_billing_policy(tmp_path / "absent.json")


def test_policy_full_config_without_preset_requires_every_field() -> None:
    with pytest.raises(ConfigError) as info:
        BillingPolicy.from_config({"time_zone": "UTC"})
    assert "unit" in info.value.fields
    assert "is required" in str(info.value)


def test_lc3_lc4_retention_and_inactivity_fields(com: BillingPolicy, cho: BillingPolicy) -> None:
    assert com.data_retention_days == cho.data_retention_days == 30  # seeds state none: Decision
    assert com.inactivity_termination_days is None and cho.inactivity_termination_days is None
    custom = BillingPolicy.from_preset("chat_outsource", data_retention_days=90, inactivity_termination_days=180)
    assert (custom.data_retention_days, custom.inactivity_termination_days) == (90, 180)


def test_policy_descriptions_cite_rules() -> None:
    # every field is documented; contract fields cite their rule id
    for name, field in BillingPolicy.model_fields.items():
        assert field.description, name
