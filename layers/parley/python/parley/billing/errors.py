"""Typed errors of the billing domain.

Handlers map these to responses by class or by ``code`` (a stable string meant for API
payloads and logs), never by matching the message text (ARCHITECTURE "Style").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from parley.field_problems import FieldProblem as FieldProblem  # re-export: lives in parley.field_problems


class BillingError(Exception):
    """Base of every billing-domain error; ``code`` is stable, ``message`` is for humans."""

    code: ClassVar[str] = "billing_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(BillingError):
    """A billing policy or plan catalog is invalid; the message names the source and each field.

    Example: ``billing policy: late_charge_percent: must be between 0 and 100``.
    """

    code = "billing_config_invalid"

    def __init__(self, source: str, problems: Sequence[FieldProblem]) -> None:
        self.source = source
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        super().__init__(f"{source}: " + "; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> tuple[str, ...]:
        """The paths of the invalid fields, in order."""
        return tuple(p.path for p in self.problems)


class InvalidBillingInput(BillingError):
    """A caller passed values the rules cannot apply to (a programming or data error)."""

    code = "invalid_billing_input"


class NaiveDatetimeError(InvalidBillingInput):
    """A datetime without a time zone: business dates need an aware instant."""

    code = "naive_datetime"


class NotABillingDate(InvalidBillingInput):
    """A cycle invoice was asked for on a day that is not the client's Billing Date (CO-9)."""

    code = "not_a_billing_date"


class UnknownPlan(BillingError):
    """A plan or add-on id is not in the catalog."""

    code = "unknown_plan"


class ReasonRequired(BillingError):
    """CH-9: a cancellation notice must give a reason (the cancellation form)."""

    code = "cancellation_reason_required"


class NoticeNotAllowed(BillingError):
    """A cancellation notice cannot be given on that day (e.g. before paid service began)."""

    code = "notice_not_allowed"
