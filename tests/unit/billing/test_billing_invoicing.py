"""Invoices: CO-9 composition, CO-5 setup fee, CO-6 overage, CH-5 upgrades, CH-6, CH-7, CO-12, CO-2 final,
CH-3 tax, CH-8 add-ons, and never any proration."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from parley.billing import (
    AddOnRequest,
    BillingPolicy,
    ClientBillingState,
    InvalidBillingInput,
    NotABillingDate,
    PendingPlanChange,
    PlanCatalog,
    PriceChange,
    draft_add_on_invoice,
    draft_cycle_invoice,
    draft_final_invoice,
)

from .support import d

PAID = d("2025-03-15")


def com_state(**kwargs: Any) -> ClientBillingState:
    base: dict[str, Any] = {"anchor_day": 15, "paid_start": PAID, "current_plan_id": "business_starter"}
    return ClientBillingState(**{**base, **kwargs})


def cho_state(**kwargs: Any) -> ClientBillingState:
    base: dict[str, Any] = {"anchor_day": 15, "paid_start": PAID, "current_plan_id": "starter"}
    return ClientBillingState(**{**base, **kwargs})


def kinds(invoice: Any) -> list[str]:
    return [line.kind for line in invoice.lines]


# ---- CO-9 / CO-5: the first paid invoice


def test_co9_co5_first_paid_invoice_fee_in_advance_and_setup_fee(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(com, com_catalog, com_state(), billing_date=PAID)
    assert kinds(invoice) == ["monthly_fee_in_advance", "setup_fee"]
    fee, setup = invoice.lines
    assert (fee.amount_cents, fee.rule_id, fee.period_start, fee.period_end) == (35000, "CO-9", PAID, d("2025-04-14"))
    assert (setup.amount_cents, setup.rule_id) == (9500, "CO-5")
    assert invoice.total_cents == 44500
    assert invoice.setup_fee_charged and invoice.ended_cycle is None
    assert invoice.due_date == d("2025-03-25")  # CO-10
    assert invoice.plan_id_next_cycle == "business_starter"


def test_co5_setup_fee_only_on_first_paid_invoice(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(com, com_catalog, com_state(setup_fee_charged=True), billing_date=d("2025-04-15"))
    assert "setup_fee" not in kinds(invoice)
    # even if the flag was never set, a later Billing Date is not the first paid cycle
    later = draft_cycle_invoice(com, com_catalog, com_state(), billing_date=d("2025-04-15"))
    assert "setup_fee" not in kinds(later) and not later.setup_fee_charged


def test_co5_setup_fee_not_twice_on_first_invoice(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(com, com_catalog, com_state(setup_fee_charged=True), billing_date=PAID)
    assert kinds(invoice) == ["monthly_fee_in_advance"]


def test_co5_no_setup_fee_in_chat_outsource(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    assert kinds(draft_cycle_invoice(cho, cho_catalog, cho_state(), billing_date=PAID)) == ["monthly_fee_in_advance"]


def test_co9_first_invoice_has_no_usage(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    with pytest.raises(InvalidBillingInput):
        draft_cycle_invoice(com, com_catalog, com_state(), billing_date=PAID, usage_units=3)


def test_co9_not_a_billing_date(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    with pytest.raises(NotABillingDate) as info:
        draft_cycle_invoice(com, com_catalog, com_state(), billing_date=d("2025-04-16"))
    assert info.value.code == "not_a_billing_date"


# ---- CO-9 / CO-6: fee in advance + overage in arrears


def test_co9_co6_overage_in_arrears_for_ended_cycle(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(
        com, com_catalog, com_state(setup_fee_charged=True), billing_date=d("2025-04-15"), usage_units=250
    )
    assert kinds(invoice) == ["monthly_fee_in_advance", "overage_in_arrears"]
    fee, overage = invoice.lines
    assert (fee.period_start, fee.period_end) == (d("2025-04-15"), d("2025-05-14"))
    assert (overage.quantity, overage.unit_amount_cents, overage.amount_cents) == (Decimal(50), 199, 9950)
    assert (overage.period_start, overage.period_end, overage.rule_id) == (PAID, d("2025-04-14"), "CO-9")
    assert invoice.ended_cycle is not None and invoice.ended_cycle.end == d("2025-04-14")
    assert invoice.total_cents == 44950


@pytest.mark.parametrize(("usage", "overage"), [(199, None), (200, None), (201, 199)])
def test_co6_overage_boundary(com: BillingPolicy, com_catalog: PlanCatalog, usage: int, overage: int | None) -> None:
    invoice = draft_cycle_invoice(com, com_catalog, com_state(), billing_date=d("2025-04-15"), usage_units=usage)
    lines = invoice.lines_of("overage_in_arrears")
    assert (lines[0].amount_cents if lines else None) == overage


def test_ch6_unused_units_not_carried_forward(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    quiet = draft_cycle_invoice(com, com_catalog, com_state(), billing_date=d("2025-04-15"), usage_units=50)
    busy = draft_cycle_invoice(com, com_catalog, com_state(), billing_date=d("2025-05-15"), usage_units=250)
    assert not quiet.lines_of("overage_in_arrears")
    assert busy.lines_of("overage_in_arrears")[0].quantity == 50  # the 150 unused last cycle do not help


def test_co9_anchor_31_cycles_and_clamped_billing_date(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    state = com_state(anchor_day=31, paid_start=d("2025-01-31"))
    invoice = draft_cycle_invoice(com, com_catalog, state, billing_date=d("2025-02-28"), usage_units=0)
    assert invoice.next_cycle is not None
    assert (invoice.next_cycle.start, invoice.next_cycle.end) == (d("2025-02-28"), d("2025-03-30"))
    assert invoice.ended_cycle is not None
    assert (invoice.ended_cycle.start, invoice.ended_cycle.end) == (d("2025-01-31"), d("2025-02-27"))


def test_co7_agent_minutes_fractional_overage(com_catalog: PlanCatalog) -> None:
    policy = BillingPolicy.from_preset("call_on_me", unit="agent_minutes")
    catalog = com_catalog.model_copy(update={"unit": "agent_minutes"})
    invoice = draft_cycle_invoice(
        policy, catalog, com_state(), billing_date=d("2025-04-15"), usage_units=Decimal("200.5")
    )
    (overage,) = invoice.lines_of("overage_in_arrears")
    assert (overage.quantity, overage.amount_cents) == (Decimal("0.5"), 100)  # 99.5 cents -> 100, half-up
    assert "0.5 agent minutes" in overage.description


# ---- CH-5 auto-upgrade on the invoice


def test_ch5_usage_at_package_boundary_no_differential(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(cho, cho_catalog, cho_state(), billing_date=d("2025-04-15"), usage_units=100)
    assert kinds(invoice) == ["monthly_fee_in_advance"]
    assert invoice.plan_id_next_cycle == "starter"


def test_ch5_one_over_charges_differential_no_overage(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    state = cho_state(upgraded_plan_id="growth")
    invoice = draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-04-15"), usage_units=101)
    assert kinds(invoice) == ["monthly_fee_in_advance", "upgrade_differential"]
    fee, differential = invoice.lines
    assert (differential.amount_cents, differential.rule_id) == (59900 - 29900, "CH-5")
    assert (differential.period_start, differential.period_end) == (PAID, d("2025-04-14"))
    # the upgrade stays: next cycle billed at Growth
    assert (fee.plan_id, fee.amount_cents) == ("growth", 59900)
    assert invoice.plan_id_ended_cycle == invoice.plan_id_next_cycle == "growth"


def test_ch5_invoice_applies_upgrade_even_if_metering_missed_it(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(cho, cho_catalog, cho_state(), billing_date=d("2025-04-15"), usage_units=300)
    assert invoice.lines_of("upgrade_differential")[0].amount_cents == 99900 - 29900
    assert invoice.plan_id_next_cycle == "business"


def test_ch5_beyond_largest_package_overage_at_its_rate(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(cho, cho_catalog, cho_state(), billing_date=d("2025-04-15"), usage_units=1001)
    assert kinds(invoice) == ["monthly_fee_in_advance", "upgrade_differential", "overage_in_arrears"]
    assert invoice.lines_of("upgrade_differential")[0].amount_cents == 179900 - 29900
    (overage,) = invoice.lines_of("overage_in_arrears")
    assert (overage.quantity, overage.unit_amount_cents, overage.rule_id) == (Decimal(1), 179, "CH-5")


def test_ch5_exactly_largest_package_no_overage(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(cho, cho_catalog, cho_state(), billing_date=d("2025-04-15"), usage_units=1000)
    assert not invoice.lines_of("overage_in_arrears")


def test_ch5_upgraded_client_next_cycle_differential_only_for_further_upgrade(
    cho: BillingPolicy, cho_catalog: PlanCatalog
) -> None:
    # after the upgrade, Growth is the current package: low usage costs nothing extra, no downgrade
    state = cho_state(current_plan_id="growth")
    invoice = draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-05-15"), usage_units=20)
    assert kinds(invoice) == ["monthly_fee_in_advance"]
    assert invoice.plan_id_next_cycle == "growth"


def test_ch5_upgraded_plan_without_auto_upgrade_is_an_error(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    state = com_state(upgraded_plan_id="advanced_business")
    with pytest.raises(InvalidBillingInput):
        draft_cycle_invoice(com, com_catalog, state, billing_date=d("2025-04-15"), usage_units=10)


# ---- CH-7 plan change at the next cycle


@pytest.mark.parametrize(
    ("requested", "applied"),
    [("2025-04-14", True), ("2025-04-15", False), ("2025-04-16", False)],
)
def test_ch7_plan_change_takes_effect_next_cycle(
    cho: BillingPolicy, cho_catalog: PlanCatalog, requested: str, applied: bool
) -> None:
    state = cho_state(
        current_plan_id="business", pending_change=PendingPlanChange(plan_id="starter", requested_on=d(requested))
    )
    invoice = draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-04-15"), usage_units=10)
    assert invoice.pending_change_applied is applied
    assert invoice.plan_id_next_cycle == ("starter" if applied else "business")
    assert invoice.lines[0].amount_cents == (29900 if applied else 99900)


def test_ch7_requested_change_overrides_ch5_upgrade_for_next_cycle(
    cho: BillingPolicy, cho_catalog: PlanCatalog
) -> None:
    state = cho_state(pending_change=PendingPlanChange(plan_id="starter", requested_on=d("2025-04-01")))
    invoice = draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-04-15"), usage_units=150)
    assert invoice.lines_of("upgrade_differential")[0].amount_cents == 30000  # the ended cycle still pays CH-5
    assert invoice.plan_id_next_cycle == "starter"


def test_ch7_unknown_plan_in_change(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    from parley.billing import UnknownPlan

    state = cho_state(pending_change=PendingPlanChange(plan_id="platinum", requested_on=d("2025-04-01")))
    with pytest.raises(UnknownPlan):
        draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-04-15"), usage_units=0)


# ---- CO-12 price changes on the invoice


@pytest.mark.parametrize(("announced", "fee"), [("2025-04-14", 37500), ("2025-04-15", 35000), ("2025-04-16", 35000)])
def test_co12_price_change_on_billing_date_invoice(
    com: BillingPolicy, com_catalog: PlanCatalog, announced: str, fee: int
) -> None:
    change = PriceChange(plan_id="business_starter", announced_on=d(announced), monthly_fee_cents=37500)
    invoice = draft_cycle_invoice(com, com_catalog, com_state(price_changes=(change,)), billing_date=d("2025-04-15"))
    assert invoice.lines[0].amount_cents == fee
    following = draft_cycle_invoice(com, com_catalog, com_state(price_changes=(change,)), billing_date=d("2025-05-15"))
    assert following.lines[0].amount_cents == 37500


def test_co12_overage_of_ended_cycle_uses_that_cycles_price(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    change = PriceChange(plan_id="business_starter", announced_on=d("2025-04-20"), overage_cents_per_unit=250)
    state = com_state(price_changes=(change,))
    may = draft_cycle_invoice(com, com_catalog, state, billing_date=d("2025-05-15"), usage_units=201)
    june = draft_cycle_invoice(com, com_catalog, state, billing_date=d("2025-06-15"), usage_units=201)
    assert may.lines_of("overage_in_arrears")[0].unit_amount_cents == 199  # cycle Apr 15 started before
    assert june.lines_of("overage_in_arrears")[0].unit_amount_cents == 250


# ---- CO-2 final invoice, no proration


def test_co2_final_invoice_after_cycle_end_no_monthly_fee(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    state = com_state(cancellation_effective_date=d("2025-07-14"))
    invoice = draft_cycle_invoice(com, com_catalog, state, billing_date=d("2025-07-15"), usage_units=230)
    assert invoice.kind == "final"
    assert kinds(invoice) == ["overage_in_arrears"]
    (overage,) = invoice.lines
    assert (overage.amount_cents, overage.rule_id) == (30 * 199, "CO-2")
    assert (overage.period_start, overage.period_end) == (d("2025-06-15"), d("2025-07-14"))
    assert invoice.plan_id_next_cycle is None
    assert invoice.due_date == d("2025-07-25")  # normal terms (CO-10)


def test_co2_no_proration_last_cycle_billed_in_full(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    state = com_state(cancellation_effective_date=d("2025-07-14"))
    invoice = draft_cycle_invoice(com, com_catalog, state, billing_date=d("2025-06-15"), usage_units=0)
    assert invoice.kind == "cycle"
    assert invoice.lines[0].amount_cents == 35000  # full month, service through Jul 14


def test_ch9_mid_cycle_cancellation_final_invoice_due_in_3_business_days(
    cho: BillingPolicy, cho_catalog: PlanCatalog
) -> None:
    state = cho_state(cancellation_effective_date=d("2025-04-23"))
    invoice = draft_final_invoice(
        cho, cho_catalog, state, effective_date=d("2025-04-23"), issue_date=d("2025-04-24"), usage_units=130
    )
    assert invoice.ended_cycle is not None
    assert (invoice.ended_cycle.start, invoice.ended_cycle.end) == (d("2025-04-15"), d("2025-04-23"))
    assert kinds(invoice) == ["upgrade_differential"]  # CH-5 still applies to the partial cycle
    assert invoice.due_date == d("2025-04-28")


def test_ch9_full_fee_even_if_service_ends_early_in_cycle(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    state = cho_state(cancellation_effective_date=d("2025-04-17"))
    invoice = draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-04-15"), usage_units=0)
    assert invoice.lines[0].amount_cents == 29900
    assert any("no proration" in note for note in invoice.notes)


def test_co2_final_invoice_must_follow_effective_date(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    with pytest.raises(InvalidBillingInput):
        draft_final_invoice(com, com_catalog, com_state(), effective_date=d("2025-07-14"), issue_date=d("2025-07-14"))


# ---- CH-3 tax, CH-8 add-ons


def test_ch3_tax_line_on_subtotal_half_up(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(com, com_catalog, com_state(tax_rate_basis_points=825), billing_date=PAID)
    assert kinds(invoice)[-1] == "tax"
    assert (invoice.subtotal_cents, invoice.tax_cents, invoice.total_cents) == (44500, 3671, 48171)
    assert invoice.lines[-1].rule_id == "CH-3"


def test_ch3_default_tax_zero_no_line(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    assert "tax" not in kinds(draft_cycle_invoice(com, com_catalog, com_state(), billing_date=PAID))


def test_ch3_policy_default_rate_used_when_client_has_none(com_catalog: PlanCatalog) -> None:
    policy = BillingPolicy.from_preset("call_on_me", tax_rate_basis_points=1000)
    invoice = draft_cycle_invoice(policy, com_catalog, com_state(), billing_date=PAID)
    assert invoice.tax_cents == 4450
    exempt = draft_cycle_invoice(policy, com_catalog, com_state(tax_rate_basis_points=0), billing_date=PAID)
    assert exempt.tax_cents == 0


def test_ch8_add_on_invoice_on_request(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    request = AddOnRequest(add_on_id="multilingual_support", quantity=2, requested_on=d("2025-04-20"))
    invoice = draft_add_on_invoice(cho, cho_catalog, request=request)
    (line,) = invoice.lines
    assert (line.kind, line.rule_id, line.amount_cents) == ("add_on", "CH-8", 30000)
    assert invoice.issue_date == invoice.due_date == d("2025-04-20")


def test_ch8_unbilled_add_ons_on_cycle_invoice(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    requests = (
        AddOnRequest(add_on_id="after_hours_coverage", requested_on=d("2025-04-10")),
        AddOnRequest(add_on_id="crm_integration_setup", requested_on=d("2025-04-16")),  # after: next invoice
    )
    invoice = draft_cycle_invoice(
        cho, cho_catalog, cho_state(unbilled_add_ons=requests), billing_date=d("2025-04-15"), usage_units=0
    )
    assert [line.amount_cents for line in invoice.lines_of("add_on")] == [25000]


def test_invoice_line_amount_must_match_quantity_times_price() -> None:
    from parley.billing import InvoiceLine

    with pytest.raises(ValueError):
        InvoiceLine(
            kind="add_on", description="x", quantity=Decimal(2), unit_amount_cents=100, amount_cents=150, rule_id="CH-8"
        )


def test_invoice_draft_serializes_for_the_ledger(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    invoice = draft_cycle_invoice(com, com_catalog, com_state(), billing_date=PAID)
    data = invoice.model_dump(mode="json")
    assert data["lines"][0]["rule_id"] == "CO-9"
    assert data["due_date"] == "2025-03-25"


# ---- CO-1 / CH-2 renewal, CO-3 no refunds or credits


def test_co1_month_to_month_renews_every_billing_date(com: BillingPolicy, com_catalog: PlanCatalog) -> None:
    state = com_state(setup_fee_charged=True)
    starts = ["2025-04-15", "2025-05-15", "2025-06-15"]
    invoices = [draft_cycle_invoice(com, com_catalog, state, billing_date=d(s), usage_units=0) for s in starts]
    assert [inv.next_cycle.start if inv.next_cycle else None for inv in invoices] == [d(s) for s in starts]
    assert all(inv.lines[0].kind == "monthly_fee_in_advance" for inv in invoices)


def test_co3_upgrade_differential_never_negative(cho: BillingPolicy, cho_catalog: PlanCatalog) -> None:
    # a price change made Growth cheaper than Starter for this cycle: no credit line (no refunds)
    change = PriceChange(plan_id="growth", announced_on=d("2025-03-01"), monthly_fee_cents=20000)
    state = cho_state(price_changes=(change,))
    invoice = draft_cycle_invoice(cho, cho_catalog, state, billing_date=d("2025-04-15"), usage_units=150)
    assert not invoice.lines_of("upgrade_differential")
    assert all(line.amount_cents >= 0 for line in invoice.lines)
