"""Shared fixtures. The local stack (moto + local gateway + handlers) is started once per
test session, on random loopback ports, and stopped at the end."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("TZ", "UTC")
os.environ.setdefault("PARLEY_PROVIDER_TIME_ZONE", "Etc/GMT+7")  # every function is deployed with it


@pytest.fixture(scope="session")
def local_stack() -> Iterator[object]:
    from infra.local.stack import LocalStack

    stack = LocalStack().start()
    try:
        yield stack
    finally:
        stack.stop()
