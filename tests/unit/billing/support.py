"""Small helpers shared by the billing tests."""

from __future__ import annotations

from datetime import date


def d(text: str) -> date:
    """``d("2025-03-15")`` -> ``date(2025, 3, 15)``: tests read like the calendar."""
    return date.fromisoformat(text)
