"""The soak of issue 11, bounded: 20 conversations x 50 messages each way with 10 % abrupt drops.

Visitors and agents are Python WebSocket clients following the clients' rules (bench/soak.py:
resume from the highest contiguous seq with `hasMore` pages, a resume when a live seq gap does
not fill within a second, a clientMessageId on every send kept across reconnects, `rate_limited`
retried after `retryAfter`). One try in ten, a client kills its TCP connection (no closing
handshake) just before or right after the frame goes out, and reconnects. Nothing may be lost or stored twice,
and every side sees every message once, in each sender's order. `python -m bench soak` runs the
same at 50 x 100 and reports ack times.
"""

from __future__ import annotations

import pytest

from bench.soak import SoakConfig, run_soak
from infra.local.stack import LocalStack

pytestmark = pytest.mark.integration


def test_soak_with_abrupt_drops_loses_nothing_duplicates_nothing_keeps_order(local_stack: LocalStack) -> None:
    result = run_soak(local_stack, SoakConfig(conversations=20, messages=50, drop_rate=0.10, seed=20))

    assert result["drops"] > 0 and result["reconnects"] >= result["drops"], result  # the faults happened
    assert result["resends"] > 0 and result["confirmed_by_resume"] > 0, result  # both kinds were recovered
    assert result["lost"] == 0, result
    assert result["duplicated"] == 0, result
    assert result["out_of_order"] == 0, result
