"""Fixtures of the billing unit tests: the two presets and their example catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.billing import BillingPolicy, PlanCatalog, load_plan_catalog

REPO_ROOT = Path(__file__).resolve().parents[3]
PLANS_DIR = REPO_ROOT / "config" / "plans"


@pytest.fixture(scope="session")
def com() -> BillingPolicy:
    """The ``call_on_me`` preset (seed 003)."""
    return BillingPolicy.from_preset("call_on_me")


@pytest.fixture(scope="session")
def cho() -> BillingPolicy:
    """The ``chat_outsource`` preset (seed 000)."""
    return BillingPolicy.from_preset("chat_outsource")


@pytest.fixture(scope="session")
def com_catalog() -> PlanCatalog:
    return load_plan_catalog(PLANS_DIR / "call_on_me.json")


@pytest.fixture(scope="session")
def cho_catalog() -> PlanCatalog:
    return load_plan_catalog(PLANS_DIR / "chat_outsource.json")
