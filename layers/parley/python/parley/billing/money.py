"""Money: integer cents, exact decimal arithmetic, half-up rounding to the cent.

"Money and dates" Decision (CONTRACT_RULES): amounts are integer cents and a percentage
is rounded half-up to the cent (5 % of $100.10 is $5.01). Floats are refused outright:
``Decimal(0.1)`` is not 0.1, and a cent lost to binary fractions is a billing bug.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

Cents = int
"""An amount of money in integer cents (USD, CH-3)."""

_ONE = Decimal(1)
_HUNDRED = Decimal(100)
_TEN_THOUSAND = Decimal(10_000)


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Exact conversion; floats (and bools) are rejected because they are not exact."""
    if isinstance(value, bool | float):
        raise TypeError(f"refusing inexact number {value!r}: use int, str or Decimal")
    if isinstance(value, Decimal):
        return value
    return Decimal(value)


def round_half_up(value: Decimal) -> Cents:
    """Round a (possibly fractional) amount of cents to a whole cent, ties away from zero."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP))


def percent_of(amount_cents: Cents, percent: Decimal | int | str) -> Cents:
    """``percent`` % of ``amount_cents``, half-up: ``percent_of(10010, 5) == 501`` (CO-11)."""
    return round_half_up(Decimal(amount_cents) * to_decimal(percent) / _HUNDRED)


def basis_points_of(amount_cents: Cents, basis_points: int) -> Cents:
    """``basis_points`` / 10 000 of ``amount_cents``, half-up (tax rates, CH-3)."""
    return round_half_up(Decimal(amount_cents) * Decimal(basis_points) / _TEN_THOUSAND)


def units_times_price(units: Decimal | int, unit_cents: Cents) -> Cents:
    """Price of a quantity (possibly fractional, e.g. 12.5 agent minutes), half-up (CO-6/CO-7)."""
    return round_half_up(to_decimal(units) * Decimal(unit_cents))


def ceil_to_multiple(value: Decimal | int, step: int) -> int:
    """Smallest multiple of ``step`` that is >= ``value`` (CO-7's rounding up to 30 s)."""
    if step <= 0:
        raise ValueError("step must be positive")
    quotient = (to_decimal(value) / Decimal(step)).to_integral_value(rounding=ROUND_CEILING)
    return int(quotient) * step


def format_usd(amount_cents: Cents) -> str:
    """``123456`` -> ``$1,234.56``; negative amounts as ``-$1.00``."""
    sign = "-" if amount_cents < 0 else ""
    dollars, cents = divmod(abs(amount_cents), 100)
    return f"{sign}${dollars:,}.{cents:02d}"
