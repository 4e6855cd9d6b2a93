"""Fixtures of the billing unit tests: the two presets and their example catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.billing import BillingPolicy, PlanCatalog, load_plan_catalog
from parley.billing.policy import load_billing_policy

REPO_ROOT = Path(__file__).resolve().parents[3]
PLANS_DIR = REPO_ROOT / "config" / "plans"
EXAMPLE_POLICIES = REPO_ROOT / "examples" / "policies"


@pytest.fixture(scope="session")
def com() -> BillingPolicy:
    """The ``call_on_me`` preset (seed 003)."""
    return BillingPolicy.from_preset("call_on_me")


@pytest.fixture(scope="session")
def cho() -> BillingPolicy:
    """The ``chat_outsource`` preset (seed 000)."""
    return BillingPolicy.from_preset("chat_outsource")


@pytest.fixture(scope="session")
def receptionist() -> BillingPolicy:
    """``examples/policies/receptionist_trial_usage.json``: ``call_on_me`` with the receptionist
    seed's trial usage fee ($1.75 a unit when the client does not continue, CO-4)."""
    return load_billing_policy(EXAMPLE_POLICIES / "receptionist_trial_usage.json")


@pytest.fixture(scope="session")
def com_catalog() -> PlanCatalog:
    return load_plan_catalog(PLANS_DIR / "call_on_me.json")


@pytest.fixture(scope="session")
def cho_catalog() -> PlanCatalog:
    return load_plan_catalog(PLANS_DIR / "chat_outsource.json")
