"""Plans and packages (CO-6, CH-5), announced price changes (CO-12), the CH-5 upgrade rule.

A catalog is data (``config/plans/<preset>.json``), validated on load: its plans form an
ordered ladder, smallest package first, which is what CH-5's "next package that covers
the usage" walks up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from parley.billing._validation import at_least, validated
from parley.billing.errors import ConfigError, FieldProblem, InvalidBillingInput, UnknownPlan
from parley.billing.money import Cents, to_decimal
from parley.billing.policy import BillingPolicy, Unit

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
NonNegativeCents = Annotated[int, at_least(0)]


class Plan(BaseModel):
    """CO-6: a monthly fee, the units it includes, and the price of each unit beyond."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug = Field(description="Stable id (lowercase letters, digits, _ and -).")
    name: str = Field(min_length=1, description="Name shown on invoices.")
    monthly_fee_cents: NonNegativeCents = Field(description="Monthly fee, billed in advance (CO-9).")
    included_units: Annotated[int, at_least(0)] = Field(
        description="Units included per cycle (CH-6: not carried over)."
    )
    overage_cents_per_unit: NonNegativeCents = Field(description="Price of each unit beyond (CO-6), in arrears.")


class AddOn(BaseModel):
    """CH-8: an extra feature or service charged on request, as its own line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    name: str = Field(min_length=1)
    price_cents: NonNegativeCents = Field(description="Price per unit of the add-on.")


class PlanCatalog(BaseModel):
    """A provider's ordered package ladder (smallest first) and its add-ons."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = 1
    preset: str | None = Field(default=None, description="Policy preset this catalog is meant for.")
    currency: Literal["USD"] = "USD"
    unit: Unit = Field(description="Unit the included units and overage rates count (must match the policy).")
    source: str = Field(default="", description="Where the prices come from (contract, page, date).")
    plans: tuple[Plan, ...] = Field(min_length=1, description="Packages, smallest first (CH-5 ladder).")
    add_ons: tuple[AddOn, ...] = Field(default=(), description="CH-8 add-ons.")

    @model_validator(mode="after")
    def _ordered_ladder(self) -> PlanCatalog:
        seen: set[str] = set()
        for index, plan in enumerate(self.plans):
            if plan.id in seen:
                raise ValueError(f"plans[{index}].id: duplicate plan id {plan.id!r}")
            seen.add(plan.id)
            if index == 0:
                continue
            previous = self.plans[index - 1]
            if plan.included_units <= previous.included_units:
                raise ValueError(
                    f"plans[{index}].included_units: must be more than the previous package's "
                    f"({previous.included_units}); list packages smallest first"
                )
            if plan.monthly_fee_cents <= previous.monthly_fee_cents:
                raise ValueError(
                    f"plans[{index}].monthly_fee_cents: must be more than the previous package's "
                    f"({previous.monthly_fee_cents}); list packages smallest first"
                )
        add_on_ids = [a.id for a in self.add_ons]
        for index, add_on_id in enumerate(add_on_ids):
            if add_on_id in add_on_ids[:index]:
                raise ValueError(f"add_ons[{index}].id: duplicate add-on id {add_on_id!r}")
        return self

    def plan(self, plan_id: str) -> Plan:
        """The plan with this id; ``UnknownPlan`` if absent."""
        for plan in self.plans:
            if plan.id == plan_id:
                return plan
        raise UnknownPlan(f"plan {plan_id!r} is not in the catalog")

    def add_on(self, add_on_id: str) -> AddOn:
        """The add-on with this id; ``UnknownPlan`` if absent."""
        for add_on in self.add_ons:
            if add_on.id == add_on_id:
                return add_on
        raise UnknownPlan(f"add-on {add_on_id!r} is not in the catalog")

    def rank(self, plan_id: str) -> int:
        """Position of a plan on the ladder (0 = smallest)."""
        return self.plans.index(self.plan(plan_id))

    @property
    def largest(self) -> Plan:
        return self.plans[-1]

    def smallest_covering(self, units: Decimal | int) -> Plan:
        """CH-5: the smallest package whose included units cover ``units``; the largest if none does."""
        amount = to_decimal(units)
        for plan in self.plans:
            if amount <= plan.included_units:
                return plan
        return self.largest

    def require_unit(self, policy: BillingPolicy) -> None:
        """Refuse to price usage counted in another unit than the catalog's."""
        if self.unit != policy.unit:
            raise ConfigError(
                "plan catalog",
                [FieldProblem("unit", f"is {self.unit!r} but the billing policy bills {policy.unit!r}")],
            )


def load_plan_catalog(path: str | Path) -> PlanCatalog:
    """Read and validate a catalog JSON file; errors name the file and the field."""
    source = f"plan catalog {Path(path)}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [FieldProblem("", f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, [FieldProblem("", f"invalid JSON at line {exc.lineno}: {exc.msg}")]) from None
    return validated(source, lambda: PlanCatalog.model_validate_json(text), unknown_key_word="field")


# --------------------------------------------------------------------------- CO-12 prices


class PriceChange(BaseModel):
    """CO-12: a new price for a plan, announced on ``announced_on``.

    It applies to every billing cycle that *starts after* the announcement day: announced
    the day before a Billing Date, it applies to the cycle starting that day; announced on
    the Billing Date itself or later, from the following cycle (a same-day announcement is
    not "before" the cycle it would price).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    announced_on: date
    monthly_fee_cents: NonNegativeCents | None = None
    overage_cents_per_unit: NonNegativeCents | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> PriceChange:
        if self.monthly_fee_cents is None and self.overage_cents_per_unit is None:
            raise ValueError("monthly_fee_cents: a price change must set a monthly fee or an overage rate")
        return self

    def applies_to_cycle_starting(self, cycle_start: date) -> bool:
        """CO-12: effective from the next billing cycle after the announcement."""
        return self.announced_on < cycle_start


class PlanPrice(BaseModel):
    """A plan's prices in force for one billing cycle (CO-12)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    name: str
    included_units: int
    monthly_fee_cents: Cents
    overage_cents_per_unit: Cents


def price_for_cycle(
    catalog: PlanCatalog, plan_id: str, cycle_start: date, price_changes: Iterable[PriceChange] = ()
) -> PlanPrice:
    """The prices of ``plan_id`` for the cycle starting ``cycle_start`` (CO-12).

    Applicable changes apply in announcement order (ties: in the given order), each one
    replacing only the prices it sets.
    """
    plan = catalog.plan(plan_id)
    fee, overage = plan.monthly_fee_cents, plan.overage_cents_per_unit
    applicable = [c for c in price_changes if c.plan_id == plan_id and c.applies_to_cycle_starting(cycle_start)]
    for change in sorted(applicable, key=lambda c: c.announced_on):
        if change.monthly_fee_cents is not None:
            fee = change.monthly_fee_cents
        if change.overage_cents_per_unit is not None:
            overage = change.overage_cents_per_unit
    return PlanPrice(
        plan_id=plan.id,
        name=plan.name,
        included_units=plan.included_units,
        monthly_fee_cents=fee,
        overage_cents_per_unit=overage,
    )


# --------------------------------------------------------------------------- CH-5


class UpgradeDecision(BaseModel):
    """CH-5: the client moves at once, without interrupting service, to ``to_plan_id``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_plan_id: str = Field(description="Package whose fee was billed in advance for this cycle.")
    from_plan_id: str = Field(description="Package in force before this upgrade (base or earlier upgrade).")
    to_plan_id: str = Field(description="Smallest package covering the usage (or the largest).")
    cycle_units: Decimal
    beyond_largest: bool = Field(description="Usage exceeds even the largest package: overage applies.")
    rule_id: str = "CH-5"
    explanation: str


def upgrade_target(catalog: PlanCatalog, plan_id: str, cycle_units: Decimal | int) -> Plan:
    """CH-5: the package a cycle's usage puts the client on; never below ``plan_id``.

    Usage exactly equal to the included units is covered (no upgrade); one unit more moves
    to the smallest package that covers it, or the largest if none does.
    """
    current = catalog.plan(plan_id)
    if to_decimal(cycle_units) <= current.included_units:
        return current
    target = catalog.smallest_covering(cycle_units)
    return target if catalog.rank(target.id) > catalog.rank(current.id) else current


def upgrade_for_usage(
    policy: BillingPolicy,
    catalog: PlanCatalog,
    *,
    current_plan_id: str,
    cycle_units: Decimal | int,
    upgraded_plan_id: str | None = None,
) -> UpgradeDecision | None:
    """CH-5, called by metering as a cycle's usage grows: upgrade now, or ``None``.

    ``current_plan_id`` is the package billed for the cycle, ``upgraded_plan_id`` an
    upgrade already made in it. Returns ``None`` when auto-upgrade is off (CO presets bill
    overage instead), when the package in force covers the usage, or when the client is
    already on the largest package (extra units then cost its overage rate).
    """
    if not policy.auto_upgrade:
        return None
    units = to_decimal(cycle_units)
    if units < 0:
        raise InvalidBillingInput("cycle_units must be >= 0")
    catalog.require_unit(policy)
    in_force = upgraded_plan_id or current_plan_id
    if catalog.rank(in_force) < catalog.rank(current_plan_id):
        raise InvalidBillingInput(f"upgraded plan {in_force!r} is smaller than the current plan {current_plan_id!r}")
    target = upgrade_target(catalog, in_force, units)
    if target.id == in_force:
        return None
    beyond = units > target.included_units
    base = catalog.plan(current_plan_id)
    explanation = (
        f"{units} {_unit_words(policy.unit)} exceed the {catalog.plan(in_force).name} package: upgraded at "
        f"once to {target.name} ({target.included_units} included). The difference between the monthly "
        f"fees of {target.name} and {base.name} is charged on the next Billing Date (CH-5)."
    )
    if beyond:
        explanation += (
            f" {target.name} is the largest package: units beyond {target.included_units} are billed at its "
            "overage rate."
        )
    return UpgradeDecision(
        base_plan_id=current_plan_id,
        from_plan_id=in_force,
        to_plan_id=target.id,
        cycle_units=units,
        beyond_largest=beyond,
        explanation=explanation,
    )


def _unit_words(unit: Unit) -> str:
    return "engaged chats" if unit == "engaged_chat" else "agent minutes"
