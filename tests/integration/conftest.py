from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.chat_client import Harness

pytestmark = pytest.mark.integration


@pytest.fixture
def chat(local_stack: Any) -> Iterator[Harness]:
    harness = Harness(local_stack)
    try:
        yield harness
    finally:
        harness.close_all()
