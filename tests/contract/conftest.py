"""Contract tests: one test module per port, each test run against the in-memory fake and
against the real adapter (DynamoDB and Step Functions on in-process moto; Stripe on
localstripe, marked integration). A fake that passes is a fake the unit tests may trust."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.tables import create_tables

_tables = itertools.count()


@pytest.fixture(scope="module")
def aws() -> Iterator[None]:
    """One in-process moto per module (starting it costs most of a test's time). Not for the
    session: while `mock_aws` is active it answers every boto3 call in the process, including
    those a later test module makes to the local stack's moto server."""
    with mock_aws():
        yield


@pytest.fixture
def data_table(aws: None) -> tuple[Any, str]:
    """A moto DynamoDB client and a fresh data table (infra/wiring.py's keys), one per test."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    suffix = next(_tables)
    create_tables(client, lambda name: f"{name}-{suffix}")
    return client, f"data-{suffix}"
