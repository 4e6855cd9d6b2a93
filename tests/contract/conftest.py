"""Contract tests: one test module per port, each test run against the in-memory fake and
against the real adapter (DynamoDB and Step Functions on a moto server on 127.0.0.1; Stripe on
localstripe, marked integration). A fake that passes is a fake the unit tests may trust.

Not `mock_aws`: moto's backends are process-wide, and starting `mock_aws` resets them, which
would wipe a local stack running in the same test session (and while active it answers every
boto3 call of the process). A moto server of our own shares those backends without resetting
them; every test gets tables and state machines of its own names."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra.local.tables import create_tables

_names = itertools.count()


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_client(moto_url: str) -> Any:
    """`aws_client("dynamodb")`: a boto3 client of the contract's moto server."""

    def client(service: str) -> Any:
        return boto3.client(service, region_name="us-east-1", endpoint_url=moto_url,  # type: ignore[call-overload]
                            aws_access_key_id="contract", aws_secret_access_key="contract")

    return client


@pytest.fixture
def unique() -> str:
    return f"contract{next(_names)}"


@pytest.fixture
def data_table(aws_client: Any, unique: str) -> tuple[Any, str]:
    """A DynamoDB client and a fresh data table (infra/wiring.py's keys), one per test."""
    client = aws_client("dynamodb")
    create_tables(client, lambda name: f"{name}-{unique}")
    return client, f"data-{unique}"
