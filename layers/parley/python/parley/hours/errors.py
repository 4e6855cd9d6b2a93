"""Typed errors of business hours: a stable ``code`` for API bodies, a message naming each field."""

from __future__ import annotations

from collections.abc import Sequence

from parley.errors import InvalidRequest
from parley.field_problems import FieldProblem


class InvalidHours(InvalidRequest):
    """Opening hours or a holiday calendar that cannot be used (HTTP 400 ``invalid_hours``).

    Example: ``hours: weekly.monday: ranges 08:00-12:00 and 11:00-13:00 overlap``.
    Nothing is stored when this is raised.
    """

    code = "invalid_hours"

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems: tuple[FieldProblem, ...] = tuple(problems)
        super().__init__("hours: " + "; ".join(str(p) for p in self.problems))

    @property
    def fields(self) -> tuple[str, ...]:
        """The paths of the invalid fields, in order (``weekly.monday[0].end``)."""
        return tuple(p.path for p in self.problems)


class NaiveInstant(InvalidRequest):
    """An instant without a time zone: opening hours are evaluated on aware instants only."""

    code = "naive_datetime"
