"""Cancellation notice: when it takes effect, and why (CO-2, CH-9).

``effective_date`` is always the *last day of service*: the cancellation takes effect at
the end of that day, nothing renews after it, and fees already paid are not refunded
(no proration, CO-2 / CH-9 / CO-3).

- CO-2, first ``free_cancellation_window_days`` (30) of paid service, days 1..30 where
  day 1 is the first paid day: effective at the end of the current billing cycle.
- CO-2 afterwards: the notice period of ``notice_days`` calendar days given on day N runs
  through the end of N+30 ("within N days of X" Decision); effective at the end of the
  billing cycle during which it expires.
- CH-9: 7 business days' notice (the 7th business day after the notice day, which itself
  never counts), a reason is mandatory, effective when the notice expires
  (``cancellation_effective="end_of_notice"``); outstanding amounts are due within 3
  business days of cancellation.
- Decision: a pending notice can be withdrawn until it takes effect (``can_withdraw``).
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from parley.billing.calendar import cycle_for
from parley.billing.errors import NoticeNotAllowed, ReasonRequired
from parley.billing.policy import BillingPolicy


class CancellationSchedule(BaseModel):
    """The outcome of a notice, with a plain explanation the client dashboard shows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notice_date: date
    reason: str | None
    day_of_paid_service: int = Field(description="1 = the first day of paid service.")
    within_free_window: bool = Field(description="CO-2: notice in the first days of paid service.")
    notice_expires_on: date | None = Field(
        description="Last day of the notice period; None when no period applies (free window)."
    )
    effective_date: date = Field(description="Last day of service: the cancellation takes effect at its end.")
    withdraw_until: date = Field(description="Last day the notice can be withdrawn (Decision).")
    outstanding_due_date: date | None = Field(
        description="CH-9: last day to pay what is still owed; None = the final invoice's normal terms."
    )
    rule_id: str
    explanation: str


def _reason_or_raise(policy: BillingPolicy, reason: str | None) -> str | None:
    cleaned = reason.strip() if reason is not None else None
    if policy.notice_requires_reason and not cleaned:
        raise ReasonRequired("a cancellation notice must state a reason (the cancellation form, CH-9)")
    return cleaned or None


def notice_expiry(policy: BillingPolicy, notice_date: date) -> date:
    """Last day of the notice period: N+30 calendar days (CO-2) or the 7th business day after N (CH-9)."""
    if policy.notice_day_kind == "business":
        return policy.business_calendar.add_business_days(notice_date, policy.notice_days)
    return notice_date + timedelta(days=policy.notice_days)


def effective_cancellation_date(
    policy: BillingPolicy,
    paid_start: date,
    anchor_day: int,
    notice_date: date,
    reason: str | None = None,
) -> CancellationSchedule:
    """When a notice given on ``notice_date`` takes effect (CO-2, CH-9); see the module docstring.

    Raises ``ReasonRequired`` (CH-9) when the policy needs a reason and none is given, and
    ``NoticeNotAllowed`` before paid service starts (a trial simply ends, CO-4).
    """
    cleaned = _reason_or_raise(policy, reason)
    if notice_date < paid_start:
        raise NoticeNotAllowed(
            f"notice on {notice_date.isoformat()} is before paid service starts ({paid_start.isoformat()}); "
            "a trial ends by itself (CO-4)"
        )
    day_number = (notice_date - paid_start).days + 1
    window = policy.free_cancellation_window_days
    balance_days = policy.final_balance_due_business_days

    def balance_due(effective: date) -> date | None:
        if balance_days is None:
            return None
        return policy.business_calendar.add_business_days(effective, balance_days)

    if window is not None and day_number <= window:
        cycle = cycle_for(anchor_day, notice_date)
        return CancellationSchedule(
            notice_date=notice_date,
            reason=cleaned,
            day_of_paid_service=day_number,
            within_free_window=True,
            notice_expires_on=None,
            effective_date=cycle.end,
            withdraw_until=cycle.end,
            outstanding_due_date=balance_due(cycle.end),
            rule_id="CO-2",
            explanation=(
                f"Notice given on {notice_date.isoformat()}, day {day_number} of paid service (within the "
                f"first {window} days): the subscription ends at the end of the current billing cycle, "
                f"{cycle.end.isoformat()}. It is not renewed; fees already paid are not refunded (CO-2)."
            ),
        )

    expires = notice_expiry(policy, notice_date)
    rule = "CH-9" if policy.notice_day_kind == "business" else "CO-2"
    if policy.notice_day_kind == "business":
        period = f"{policy.notice_days} business days' notice ({policy.business_calendar.name})"
    else:
        period = f"the {policy.notice_days}-day notice period"
    if policy.cancellation_effective == "end_of_cycle":
        cycle = cycle_for(anchor_day, expires)
        effective = cycle.end
        tail = (
            f"the cancellation takes effect at the end of the billing cycle during which it expires "
            f"({cycle.start.isoformat()} to {cycle.end.isoformat()}): service ends after {effective.isoformat()}"
        )
    else:
        effective = expires
        tail = (
            f"service ends after {effective.isoformat()}, with no refund for the unused part of the "
            "billing cycle (no proration)"
        )
    explanation = (
        f"Notice given on {notice_date.isoformat()}, day {day_number} of paid service: {period} "
        f"ends on {expires.isoformat()}; {tail} ({rule})."
    )
    due = balance_due(effective)
    if due is not None:
        explanation += (
            f" Amounts still owed are due by {due.isoformat()} ({balance_days} business days after cancellation, CH-9)."
        )
    return CancellationSchedule(
        notice_date=notice_date,
        reason=cleaned,
        day_of_paid_service=day_number,
        within_free_window=False,
        notice_expires_on=expires,
        effective_date=effective,
        withdraw_until=effective,
        outstanding_due_date=due,
        rule_id=rule,
        explanation=explanation,
    )


def can_withdraw(effective_date: date, today: date) -> bool:
    """Decision: a pending notice can be withdrawn until it takes effect (through its last day)."""
    return today <= effective_date
