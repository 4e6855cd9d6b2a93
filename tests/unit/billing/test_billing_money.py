"""Money and dates Decision: integer cents, percentages half-up to the cent, never floats."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.billing import basis_points_of, format_usd, percent_of, round_half_up, units_times_price
from parley.billing.money import ceil_to_multiple, to_decimal


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [
        (10010, 5, 501),  # CONTRACT_RULES example: 5 % of $100.10 is $5.01 (500.5 -> 501)
        (10000, 5, 500),
        (10009, 5, 500),  # 500.45 -> 500
        (10030, 5, 502),  # 501.5 -> 502
        (1, 50, 1),  # 0.5 -> 1
        (0, 5, 0),
        (12345, Decimal("2.5"), 309),  # 308.625 -> 309
    ],
)
def test_money_decision_percent_half_up(amount: int, percent: Decimal | int, expected: int) -> None:
    assert percent_of(amount, percent) == expected


def test_money_decision_round_half_up_ties_away_from_zero() -> None:
    assert round_half_up(Decimal("0.5")) == 1
    assert round_half_up(Decimal("1.49")) == 1
    assert round_half_up(Decimal("-0.5")) == -1


def test_money_decision_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        percent_of(10010, 5.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_decimal(0.1)  # type: ignore[arg-type]


def test_ch3_tax_basis_points_half_up() -> None:
    assert basis_points_of(44500, 825) == 3671  # 3671.25
    assert basis_points_of(200, 2500) == 50


def test_co7_fractional_units_priced_half_up() -> None:
    assert units_times_price(Decimal("0.5"), 199) == 100  # 99.5 -> 100
    assert units_times_price(Decimal("12.5"), 154) == 1925


def test_co7_ceil_to_multiple() -> None:
    assert [ceil_to_multiple(x, 30) for x in (0, 1, 29, 30, 31, 60)] == [0, 30, 30, 30, 60, 60]


def test_format_usd() -> None:
    assert format_usd(123456) == "$1,234.56"
    assert format_usd(5) == "$0.05"
    assert format_usd(-100) == "-$1.00"


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=100))
def test_money_decision_percent_matches_exact_integer_half_up(amount: int, percent: int) -> None:
    # floor(amount * p / 100 + 1/2), computed in integers only
    assert percent_of(amount, percent) == (2 * amount * percent + 100) // 200
