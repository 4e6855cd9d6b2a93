"""Turn pydantic's validation errors into ``ConfigError`` messages a provider can act on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import AfterValidator, ValidationError

from parley.billing.errors import ConfigError
from parley.field_problems import field_problems

T = TypeVar("T")


def between(low: int, high: int) -> AfterValidator:
    """Annotated validator with one message for both bounds: ``must be between 0 and 100``."""

    def check(value: Any) -> Any:
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}")
        return value

    return AfterValidator(check)


def at_least(low: int) -> AfterValidator:
    """Annotated validator: ``must be at least 0``."""

    def check(value: Any) -> Any:
        if value < low:
            raise ValueError(f"must be at least {low}")
        return value

    return AfterValidator(check)


def config_error(source: str, error: ValidationError, *, unknown_key_word: str = "setting") -> ConfigError:
    """``ConfigError`` naming ``source`` and every invalid field of ``error``."""
    return ConfigError(source, field_problems(error, unknown_key_word=unknown_key_word))


def validated(source: str, build: Callable[[], T], *, unknown_key_word: str = "setting") -> T:
    """Run ``build`` (a pydantic validation) and re-raise its errors as ``ConfigError``."""
    try:
        return build()
    except ValidationError as exc:
        raise config_error(source, exc, unknown_key_word=unknown_key_word) from None
