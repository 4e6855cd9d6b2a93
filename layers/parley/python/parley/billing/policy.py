"""``BillingPolicy``: every number of CONTRACT_RULES as validated data ("Rules are data").

The platform serves any chat outsourcing provider, so nothing contractual is a constant
in code: a provider picks a preset (``call_on_me``, ``chat_outsource``) that reproduces
its seed contract, and may override any field. Invalid settings raise ``ConfigError``
naming the field, e.g. ``billing policy: late_charge_percent: must be between 0 and 100``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from parley.billing._validation import at_least, between, validated
from parley.billing.calendar import (
    CALL_ON_ME_HOLIDAYS,
    US_FEDERAL_HOLIDAYS,
    BusinessCalendar,
    parse_time_zone,
    to_business_date,
)
from parley.billing.errors import ConfigError, FieldProblem
from parley.timezones import CALL_ON_ME_ZONE

Unit = Literal["engaged_chat", "agent_minutes"]
"""Billing unit (CO-7 Decision): an engaged chat, or agent handling minutes rounded per CO-7."""

Days = Annotated[int, between(0, 3650)]
NonNegativeCents = Annotated[int, at_least(0)]


class DefaultRule(BaseModel):
    """When unpaid becomes default: full payment not received within ``days`` of ``anchor``.

    CO-10: ``{anchor: billing_date, days: 30}``; CH-10: ``{anchor: due_date, days: 3}``.
    Per the "Money and dates" Decision the client is in default from day anchor+days+1.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    anchor: Literal["billing_date", "due_date"] = Field(description="Date the days count from.")
    days: Annotated[int, between(0, 365)] = Field(description="Days of grace after the anchor date.")


class BillingPolicy(BaseModel):
    """All contract numbers of one provider's billing (CONTRACT_RULES IDs in each description)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    preset: str | None = Field(default=None, description="Preset this policy was built from, if any.")

    # ---- zone, money, units
    time_zone: str = Field(
        description="Business time zone: IANA name (Etc/GMT+7 = UTC-7, no DST) or fixed offset "
        "like UTC-07:00. All billing dates are days in this zone (Money and dates Decision)."
    )
    currency: Literal["USD"] = Field(default="USD", description="CH-3: prices are in USD.")
    unit: Unit = Field(description="Billing unit (CO-6, CO-7 Decision).")
    rounding_increment_seconds: Annotated[int, between(1, 3600)] = Field(
        default=30, description="CO-7: each chat's agent time is rounded up to this increment."
    )
    answer_grace_seconds: Annotated[int, between(0, 600)] = Field(
        default=4, description="CO-7: billable time starts this many seconds after answer."
    )
    tax_rate_basis_points: Annotated[int, between(0, 10_000)] = Field(
        default=0, description="CH-3: default tax rate (1 bp = 0.01 %); a client may have its own."
    )

    # ---- trial (CO-4, CO-5, CO-9)
    trial_length_days: Annotated[int, between(0, 365)] = Field(
        description="CO-4/CO-9: free trial length; 0 = no trial (paid service starts at once)."
    )
    trial_unit_limit: Annotated[int, at_least(1)] | None = Field(
        description="CO-4: units included in the trial; None = unlimited."
    )
    trial_limit_converts_to_paid: bool = Field(
        default=True, description="CO-4: exceeding the trial limit converts the client to paid at once."
    )
    trial_overage_unit_cents: NonNegativeCents | None = Field(
        description="CO-4: price per unit of trial usage billed when the client does not continue; "
        "None = trial usage is never billed."
    )
    setup_fee_cents: NonNegativeCents = Field(
        description="CO-5: one-time setup fee, charged on the first paid billing cycle only."
    )

    # ---- payment, late charges, default (CO-10, CO-11, CO-13, CH-10)
    payment_due_days: Days = Field(
        description="CO-10: the Due Date is this many days after the Billing Date (0 = same day)."
    )
    late_charge_percent: Annotated[Decimal, between(0, 100)] = Field(
        description="CO-11: late charge, percent of the amount then due (half-up); 0 = none."
    )
    late_charge_days_after_due: Days = Field(
        description="CO-11: payment not received within this many days of the Due Date is late."
    )
    default_rule: DefaultRule = Field(description="CO-10 / CH-10: when non-payment is a default.")
    failed_payment_days: Days = Field(
        description="CO-13: after a failed payment or chargeback, days from notification to pay."
    )
    default_warning_days: Annotated[int, between(1, 60)] = Field(
        default=3, description="The default warning email goes out this many days before the default date "
        "(never before the invoice's issue date)."
    )
    reinstate_on_full_payment: bool = Field(
        default=False, description="Decision of CO-10: full payment of everything owed within "
        "reinstatement_window_days of a default restores the service with a new cycle from that day "
        "(new Billing Date anchor, fee in advance, no proration). Off in both presets: default is termination."
    )
    reinstatement_window_days: Annotated[int, between(0, 365)] = Field(
        default=30, description="With reinstate_on_full_payment: days after the default date in which full "
        "payment restores the service (at most data_retention_days: the data must still be there)."
    )

    # ---- plans (CH-5)
    auto_upgrade: bool = Field(
        description="CH-5: usage above the package upgrades the client at once to the package that covers it."
    )

    # ---- cancellation (CO-2, CH-9)
    notice_days: Days = Field(description="CO-2 / CH-9: length of the cancellation notice.")
    notice_day_kind: Literal["calendar", "business"] = Field(
        description="CO-2 counts calendar days, CH-9 business days."
    )
    notice_requires_reason: bool = Field(description="CH-9: a notice must state a reason.")
    cancellation_effective: Literal["end_of_cycle", "end_of_notice"] = Field(
        description="CO-2: end of the billing cycle in which the notice expires; "
        "end_of_notice: the day the notice period expires (CH-9, no proration, no refund)."
    )
    free_cancellation_window_days: Annotated[int, between(1, 365)] | None = Field(
        description="CO-2: during these first days of paid service a notice takes effect at the "
        "end of the current cycle, without the notice period; None = no such window."
    )
    final_balance_due_business_days: Annotated[int, between(0, 365)] | None = Field(
        description="CH-9: outstanding amounts are due this many business days after cancellation; "
        "None = the final invoice has the normal payment terms (payment_due_days)."
    )

    # ---- data and termination (LC-3, LC-4, PR-4)
    data_retention_days: Days = Field(
        description="LC-3 / PR-4: days client data is kept after termination, then deleted."
    )
    inactivity_termination_days: Annotated[int, between(1, 3650)] | None = Field(
        description="LC-4 / CH-12: days without activity after which the provider may terminate; None = never."
    )

    # ---- business days (CH-9)
    business_calendar: BusinessCalendar = Field(
        description="CH-9: business days = these weekdays minus these holidays."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        parse_time_zone(value)  # raises ValueError with a readable message
        return value

    @model_validator(mode="after")
    def _coherent(self) -> BillingPolicy:
        if self.trial_length_days == 0 and self.trial_unit_limit is not None:
            raise ValueError("trial_unit_limit: must be null when trial_length_days is 0 (no trial)")
        if self.trial_length_days == 0 and self.trial_overage_unit_cents is not None:
            raise ValueError("trial_overage_unit_cents: must be null when trial_length_days is 0 (no trial)")
        if self.reinstate_on_full_payment and self.reinstatement_window_days > self.data_retention_days:
            raise ValueError("reinstatement_window_days: must not exceed data_retention_days "
                             "(a reinstated client's data must not have been deleted)")
        if self.unit == "agent_minutes" and self.rounding_increment_seconds % 3:
            # billable minutes are exact decimals only when the increment is a multiple of 3 s
            raise ValueError(
                "rounding_increment_seconds: must be a multiple of 3 seconds when billing agent_minutes "
                "(e.g. 6, 15, 30, 60) so minutes are exact"
            )
        return self

    # ---- helpers

    @property
    def zone(self) -> tzinfo:
        """The business time zone as a ``tzinfo``."""
        return parse_time_zone(self.time_zone)

    def business_date(self, moment: datetime) -> date:
        """The business day (in ``time_zone``) containing the aware instant ``moment``."""
        return to_business_date(moment, self.zone)

    @classmethod
    def from_config(cls, data: Mapping[str, Any], *, source: str = "billing policy") -> BillingPolicy:
        """Validate a full policy mapping, or ``{"preset": name, ...overrides}``."""
        preset = data.get("preset")
        if isinstance(preset, str) and preset in PRESETS:
            rest = {k: v for k, v in data.items() if k != "preset"}
            return cls._build(preset, rest, source)
        if preset is not None and not isinstance(preset, str):
            raise ConfigError(source, [FieldProblem("preset", "must be a text string")])
        return validated(source, lambda: cls.model_validate(dict(data)))

    @classmethod
    def from_preset(cls, name: str, /, **overrides: Any) -> BillingPolicy:
        """A preset, optionally with fields overridden; each override is validated.

        ``BillingPolicy.from_preset("call_on_me", late_charge_percent=Decimal("2.5"))``.
        """
        return cls._build(name, overrides, "billing policy")

    @classmethod
    def _build(cls, name: str, overrides: Mapping[str, Any], source: str) -> BillingPolicy:
        factory = PRESETS.get(name)
        if factory is None:
            known = ", ".join(sorted(PRESETS))
            raise ConfigError(source, [FieldProblem("preset", f"unknown preset {name!r} (known: {known})")])
        data = {**factory(), **overrides, "preset": name}
        return validated(source, lambda: cls.model_validate(data))


def load_billing_policy(path: str | Path) -> BillingPolicy:
    """Read a JSON policy file (a full policy or ``{"preset": ..., overrides}``); errors name the file."""
    source = f"billing policy {Path(path)}"
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(source, [FieldProblem("", f"cannot read file: {exc.strerror or exc}")]) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(source, [FieldProblem("", f"invalid JSON at line {exc.lineno}: {exc.msg}")]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, [FieldProblem("", "must be a JSON object")])
    return BillingPolicy.from_config(data, source=source)


def _call_on_me() -> dict[str, Any]:
    """Preset ``call_on_me``: seed 003 (Call On Me Terms of Service), rule by rule.

    - time_zone ``Etc/GMT+7``: CO-8 "MST", UTC-7 with no daylight saving (POSIX sign).
    - unit ``engaged_chat``: the chat product's default unit (CO-7 Decision; CO-6 "live chat
      plans have the same shape"). The seed's numbers are Receptionist Minutes; a provider
      billing minutes overrides ``unit="agent_minutes"`` and CO-7's 30 s / 4 s apply.
    - rounding 30 s, grace 4 s: CO-7 (used only with ``agent_minutes``).
    - trial 14 days, 500 units, usage beyond converts to paid: CO-4. Trial usage is not billed
      when the client does not continue (``trial_overage_unit_cents`` None): the seed's
      $1.75/unit is the receptionist service's; the chat preset has no trial usage fee (ruling
      on CO-4; ``examples/policies/receptionist_trial_usage.json`` shows the $1.75 case).
      Setup fee 9500 cents: CO-5.
    - payment due 10 days after the Billing Date (CO-10); late charge 5 % when not paid
      within 10 days of the Due Date (CO-11); default when not paid within 30 days of the
      Billing Date (CO-10); 10 days to pay after a failed payment or chargeback (CO-13).
    - no auto-upgrade (the seed bills overage instead: CO-6).
    - notice 30 calendar days, no reason, effective at the end of the cycle in which it
      expires, first 30 days of paid service cancel at the end of the current cycle (CO-2).
    - final balance: normal payment terms (the seed only says it is still billed, CO-2).
    - tax 0 (CH-3 default). Data retention 30 days after termination: the seed states no
      period (it *may* delete at once); 30 days leaves time for the LC-3 export.
    - no inactivity termination: the seed states no threshold (LC-4 is a "may").
    - default is termination, no reinstatement (``reinstate_on_full_payment`` off, CO-10).
    - business calendar: CO-8's seven closed days (business days are not used by this
      preset's billing rules; kept for service-hours and provider extensions).
    """
    return {
        "time_zone": CALL_ON_ME_ZONE,
        "currency": "USD",
        "unit": "engaged_chat",
        "rounding_increment_seconds": 30,
        "answer_grace_seconds": 4,
        "tax_rate_basis_points": 0,
        "trial_length_days": 14,
        "trial_unit_limit": 500,
        "trial_limit_converts_to_paid": True,
        "trial_overage_unit_cents": None,
        "setup_fee_cents": 9500,
        "payment_due_days": 10,
        "late_charge_percent": Decimal(5),
        "late_charge_days_after_due": 10,
        "default_rule": DefaultRule(anchor="billing_date", days=30),
        "failed_payment_days": 10,
        "auto_upgrade": False,
        "notice_days": 30,
        "notice_day_kind": "calendar",
        "notice_requires_reason": False,
        "cancellation_effective": "end_of_cycle",
        "free_cancellation_window_days": 30,
        "final_balance_due_business_days": None,
        "data_retention_days": 30,
        "inactivity_termination_days": None,
        "business_calendar": CALL_ON_ME_HOLIDAYS,
    }


def _chat_outsource() -> dict[str, Any]:
    """Preset ``chat_outsource``: seed 000 (Chat Outsource Service Contract), rule by rule.

    - time_zone ``America/Los_Angeles``: the seed states none; its principal place of
      business is San Diego, CA.
    - unit ``engaged_chat``: the seed bills "as per his total number of chats" (CH-5).
      Rounding 30 s / 4 s are CO-7's values, used only if overridden to ``agent_minutes``.
    - no trial (``trial_length_days`` 0): the seed offers a free *demo* (CH-1, not billed),
      then the client picks a package and pays; so no trial limit, no trial billing.
    - setup fee 0: the seed mentions "two costs" but states only the monthly package fee.
    - Due Date = Billing Date (``payment_due_days`` 0): auto-charged on the 1st day of the
      cycle (CH-10's "the Due Date being the Billing Date").
    - late charge 0 %: the seed has none; non-payment cancels the service instead.
    - default: not paid within 3 days of the Due Date, so cancelled on Due Date + 4 (CH-10
      under the "Money and dates" Decision); ``failed_payment_days`` 3 by the same rule.
    - auto-upgrade on (CH-5).
    - notice 7 business days with a mandatory reason, effective when the notice expires
      (CH-9: "cancel our service on a 7-Days notice"; no refund for the unused part of
      the cycle, no proration); no free-cancellation window; outstanding amounts due 3
      business days after cancellation (CH-9). Default cancels: no reinstatement (CH-10).
    - tax 0 (CH-3: prices exclude taxes; rate per client). Data retention 30 days (seed
      silent; LC-3 "a reasonable period"). No inactivity termination (seed silent).
    - business calendar: US federal holidays, observed (the seed names none).
    """
    return {
        "time_zone": "America/Los_Angeles",
        "currency": "USD",
        "unit": "engaged_chat",
        "rounding_increment_seconds": 30,
        "answer_grace_seconds": 4,
        "tax_rate_basis_points": 0,
        "trial_length_days": 0,
        "trial_unit_limit": None,
        "trial_limit_converts_to_paid": True,
        "trial_overage_unit_cents": None,
        "setup_fee_cents": 0,
        "payment_due_days": 0,
        "late_charge_percent": Decimal(0),
        "late_charge_days_after_due": 0,
        "default_rule": DefaultRule(anchor="due_date", days=3),
        "failed_payment_days": 3,
        "auto_upgrade": True,
        "notice_days": 7,
        "notice_day_kind": "business",
        "notice_requires_reason": True,
        "cancellation_effective": "end_of_notice",
        "free_cancellation_window_days": None,
        "final_balance_due_business_days": 3,
        "data_retention_days": 30,
        "inactivity_termination_days": None,
        "business_calendar": US_FEDERAL_HOLIDAYS,
    }


PRESETS: dict[str, Callable[[], dict[str, Any]]] = {
    "call_on_me": _call_on_me,
    "chat_outsource": _chat_outsource,
}
"""Preset name -> factory of the preset's field values (see each factory's docstring)."""
