"""Plan catalogs (CO-6), CO-12 price-change timing, CH-5 upgrades as usage grows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from parley.billing import (
    BillingPolicy,
    ConfigError,
    PlanCatalog,
    PriceChange,
    UnknownPlan,
    load_plan_catalog,
    price_for_cycle,
    upgrade_for_usage,
    upgrade_target,
)

from .conftest import PLANS_DIR
from .support import d


def test_co6_call_on_me_catalog_is_the_seed_example(com_catalog: PlanCatalog) -> None:
    rows = [(p.name, p.monthly_fee_cents, p.included_units, p.overage_cents_per_unit) for p in com_catalog.plans]
    assert rows == [
        ("Business Starter", 35000, 200, 199),
        ("Business Development", 48600, 300, 162),
        ("Advanced Business", 77000, 500, 154),
    ]
    assert com_catalog.preset == "call_on_me"


def test_ch5_chat_outsource_catalog_is_an_ordered_ladder(cho_catalog: PlanCatalog) -> None:
    units = [p.included_units for p in cho_catalog.plans]
    fees = [p.monthly_fee_cents for p in cho_catalog.plans]
    assert units == sorted(units) and fees == sorted(fees)
    assert cho_catalog.unit == "engaged_chat"
    assert "seed 000" in cho_catalog.source.lower()


def test_co6_unknown_plan_is_a_typed_error(com_catalog: PlanCatalog) -> None:
    with pytest.raises(UnknownPlan) as info:
        com_catalog.plan("gold")
    assert info.value.code == "unknown_plan"


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "plans.json"
    path.write_text(json.dumps(data))
    return path


def _valid() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PLANS_DIR / "call_on_me.json").read_text())
    return data


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["plans"][1].update(monthly_fee_cents=-1), "plans[1].monthly_fee_cents: must be at least 0"),
        (lambda c: c["plans"][0].update(colour="red"), "plans[0].colour: is not a known field"),
        (lambda c: c["plans"][2].pop("included_units"), "plans[2].included_units: is required"),
        (lambda c: c.update(unit="minutes"), "unit: must be 'engaged_chat' or 'agent_minutes'"),
        (lambda c: c.update(plans=[]), "plans: must have at least 1 item(s)"),
        (
            lambda c: c["plans"].reverse(),
            "plans[1].included_units: must be more than the previous package's (500); list packages smallest first",
        ),
        (lambda c: c["plans"][1].update(id="business_starter"), "plans[1].id: duplicate plan id 'business_starter'"),
        (
            lambda c: c["plans"][0].update(overage_cents_per_unit=1.99),
            "plans[0].overage_cents_per_unit: must be a whole number",
        ),
    ],
)
def test_co6_invalid_catalog_message_names_file_and_field(tmp_path: Path, mutate: Any, expected: str) -> None:
    data = _valid()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(ConfigError) as info:
        load_plan_catalog(path)
    assert str(info.value) == f"plan catalog {path}: {expected}"


def test_co6_catalog_invalid_json_names_file(tmp_path: Path) -> None:
    path = tmp_path / "plans.json"
    path.write_text('{"plans": [}')
    with pytest.raises(ConfigError, match=r"plan catalog .*plans\.json: invalid JSON at line 1"):
        load_plan_catalog(path)


def test_co6_catalog_unit_must_match_policy(com_catalog: PlanCatalog) -> None:
    minutes = BillingPolicy.from_preset("call_on_me", unit="agent_minutes")
    with pytest.raises(ConfigError, match="unit: is 'engaged_chat' but the billing policy bills 'agent_minutes'"):
        com_catalog.require_unit(minutes)


# ---- CO-12: price changes apply from the next billing cycle after the announcement


@pytest.mark.parametrize(
    ("announced", "fee_for_cycle_starting_may_15"),
    [
        ("2025-05-14", 37500),  # the day before the Billing Date: applies to the cycle starting that day
        ("2025-05-15", 35000),  # the day of: that cycle already started -> next one
        ("2025-05-16", 35000),  # after: next one
    ],
)
def test_co12_price_change_announced_around_billing_date(
    com_catalog: PlanCatalog, announced: str, fee_for_cycle_starting_may_15: int
) -> None:
    change = PriceChange(plan_id="business_starter", announced_on=d(announced), monthly_fee_cents=37500)
    price = price_for_cycle(com_catalog, "business_starter", d("2025-05-15"), [change])
    assert price.monthly_fee_cents == fee_for_cycle_starting_may_15
    assert price_for_cycle(com_catalog, "business_starter", d("2025-06-15"), [change]).monthly_fee_cents == 37500


def test_co12_later_announcement_wins_and_partial_changes_compose(com_catalog: PlanCatalog) -> None:
    changes = [
        PriceChange(plan_id="business_starter", announced_on=d("2025-03-01"), overage_cents_per_unit=209),
        PriceChange(plan_id="business_starter", announced_on=d("2025-04-01"), monthly_fee_cents=36000),
        PriceChange(plan_id="business_starter", announced_on=d("2025-02-01"), monthly_fee_cents=40000),
        PriceChange(plan_id="advanced_business", announced_on=d("2025-01-01"), monthly_fee_cents=1),
    ]
    price = price_for_cycle(com_catalog, "business_starter", d("2025-05-15"), changes)
    assert (price.monthly_fee_cents, price.overage_cents_per_unit) == (36000, 209)


def test_co12_price_change_must_change_something() -> None:
    with pytest.raises(ValueError):
        PriceChange(plan_id="x", announced_on=d("2025-01-01"))


# ---- CH-5: upgrade at once to the smallest package covering the usage


def test_ch5_usage_exactly_at_package_boundary_no_upgrade(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    assert upgrade_for_usage(cho, cho_catalog, current_plan_id="starter", cycle_units=100) is None


def test_ch5_one_over_package_upgrades_to_next(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    decision = upgrade_for_usage(cho, cho_catalog, current_plan_id="starter", cycle_units=101)
    assert decision is not None
    assert (decision.base_plan_id, decision.from_plan_id, decision.to_plan_id) == ("starter", "starter", "growth")
    assert decision.beyond_largest is False
    assert decision.rule_id == "CH-5"
    assert "Growth" in decision.explanation


def test_ch5_jump_to_smallest_covering_package(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    decision = upgrade_for_usage(cho, cho_catalog, current_plan_id="starter", cycle_units=251)
    assert decision is not None and decision.to_plan_id == "business"


def test_ch5_already_upgraded_package_is_the_floor(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    kwargs: dict[str, Any] = {"current_plan_id": "starter", "upgraded_plan_id": "growth"}
    assert upgrade_for_usage(cho, cho_catalog, cycle_units=250, **kwargs) is None
    decision = upgrade_for_usage(cho, cho_catalog, cycle_units=251, **kwargs)
    assert decision is not None
    assert (decision.base_plan_id, decision.from_plan_id, decision.to_plan_id) == ("starter", "growth", "business")


def test_ch5_beyond_largest_package(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    decision = upgrade_for_usage(cho, cho_catalog, current_plan_id="business", cycle_units=1001)
    assert decision is not None and decision.to_plan_id == "enterprise" and decision.beyond_largest
    assert upgrade_for_usage(cho, cho_catalog, current_plan_id="enterprise", cycle_units=5000) is None


def test_ch5_off_for_call_on_me_overage_instead(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    assert upgrade_for_usage(com, com_catalog, current_plan_id="business_starter", cycle_units=450) is None


def test_ch5_upgrade_target_never_downgrades(cho_catalog: PlanCatalog) -> None:
    assert upgrade_target(cho_catalog, "business", 10).id == "business"
