"""Quantities have one JSON type everywhere (dashboard API, ledger item, scenario output): a
number, an integer when whole; agent minutes in halves stay exact."""

from __future__ import annotations

import json
from decimal import Decimal

from parley.billing.lines import InvoiceLine


def line(quantity: str, unit: int, amount: int) -> InvoiceLine:
    return InvoiceLine(kind="overage_in_arrears", description="overage", quantity=Decimal(quantity),
                       unit_amount_cents=unit, amount_cents=amount, rule_id="CO-9")


def test_a_whole_quantity_is_a_json_integer_and_a_half_minute_a_json_number() -> None:
    assert json.loads(line("30", 199, 5970).model_dump_json())["quantity"] == 30
    assert type(json.loads(line("30.0", 199, 5970).model_dump_json())["quantity"]) is int
    assert json.loads(line("15.5", 199, 3085).model_dump_json())["quantity"] == 15.5
    assert line("15.5", 199, 3085).model_dump(mode="json")["quantity"] == 15.5


def test_the_json_form_reads_back_to_the_same_decimal_and_python_dumps_keep_decimals() -> None:
    for quantity, amount in (("30", 5970), ("15.5", 3085)):
        original = line(quantity, 199, amount)
        again = InvoiceLine.model_validate(json.loads(original.model_dump_json()))
        assert again.quantity == Decimal(quantity) and again == original
        assert isinstance(original.model_dump()["quantity"], Decimal)
