"""Building hours from settings (an admin's edit, a preset): every problem named by its field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from parley.field_problems import FieldProblem, field_problems
from parley.hours.errors import InvalidHours
from parley.hours.models import CHECK_HOLIDAY_NAMES, BusinessHours
from parley.hours.presets import PRESETS


def parse_hours(data: Mapping[str, Any]) -> BusinessHours:
    """Validate a full hours mapping, or ``{"preset": "call_on_me", ...overrides}``.

    Overrides replace whole top-level fields (``weekly``, ``holidays``, ``time_zone``,
    ``after_hours_coverage``). Raises ``InvalidHours`` (HTTP 400 ``invalid_hours``) naming
    every invalid field, e.g. ``hours: weekly.monday[0].end: ...``.
    """
    if not isinstance(data, Mapping):
        raise InvalidHours([FieldProblem("", "must be an object")])
    preset = data.get("preset")
    if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
        known = ", ".join(sorted(PRESETS))
        raise InvalidHours([FieldProblem("preset", f"unknown preset {preset!r} (known: {known})")])
    merged = {**PRESETS[preset](), **data} if preset else dict(data)
    try:
        return BusinessHours.model_validate(merged, context={CHECK_HOLIDAY_NAMES: True})
    except ValidationError as exc:
        raise InvalidHours(field_problems(exc)) from None


def hours_preset(name: str) -> BusinessHours:
    """A preset as ``BusinessHours`` (``call_on_me``: CO-8; ``always_open``)."""
    return parse_hours({"preset": name})
