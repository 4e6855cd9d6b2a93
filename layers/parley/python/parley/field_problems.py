"""One invalid field of a setting, and pydantic's validation errors turned into such problems.

Shared by every domain that validates settings (billing policies and plans, business hours),
so that their error messages read alike; kept apart from ``parley.billing`` so that hours,
loaded on every chat request, does not import the billing rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails


@dataclass(frozen=True)
class FieldProblem:
    """One invalid setting: ``path`` like ``plans[1].monthly_fee_cents``, ``message`` in plain words."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


_SIMPLE: dict[str, str] = {
    "missing": "is required",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "decimal_parsing": "must be a number",
    "decimal_type": "must be a number",
    "string_type": "must be a text string",
    "date_type": "must be a date (YYYY-MM-DD)",
    "date_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_parsing": "must be a date (YYYY-MM-DD)",
    "date_from_datetime_inexact": "must be a date (YYYY-MM-DD)",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "dict_type": "must be an object",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
}


# Messages that quote the error's context (pydantic's `ctx`): kind -> text from ctx.
_FROM_CONTEXT: dict[str, Callable[[dict[str, Any]], str]] = {
    "literal_error": lambda ctx: f"must be {ctx.get('expected', 'one of the allowed values')}",
    "greater_than_equal": lambda ctx: f"must be at least {ctx.get('ge')}",
    "less_than_equal": lambda ctx: f"must be at most {ctx.get('le')}",
    "greater_than": lambda ctx: f"must be greater than {ctx.get('gt')}",
    "less_than": lambda ctx: f"must be less than {ctx.get('lt')}",
    "too_short": lambda ctx: f"must have at least {ctx.get('min_length')} item(s)",
}


def _message(error: ErrorDetails, unknown_key_word: str) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind in _FROM_CONTEXT:
        return _FROM_CONTEXT[kind](ctx)
    if kind == "extra_forbidden":
        return f"is not a known {unknown_key_word}"
    if kind == "value_error":
        return error["msg"].removeprefix("Value error, ")
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else error["msg"].lower()
    msg = error["msg"]
    return msg[:1].lower() + msg[1:]


_PREFIXED = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.DOTALL)


def _problem(error: ErrorDetails, unknown_key_word: str) -> FieldProblem:
    path, message = _path(error["loc"]), _message(error, unknown_key_word)
    if not path:  # a model-level check names its field as "field: message"
        match = _PREFIXED.match(message)
        if match:
            path, message = match.group(1), match.group(2)
    return FieldProblem(path=path, message=message)


def field_problems(error: ValidationError, *, unknown_key_word: str = "setting") -> list[FieldProblem]:
    """Every invalid field of ``error``, in pydantic's order, in plain words."""
    return [_problem(e, unknown_key_word) for e in error.errors(include_url=False)]
