"""The hours package stays light: every chat function imports it (``Client.hours``) on cold start.

Checked in a fresh interpreter, since this test process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import parley.hours, parley.chat.models
print(json.dumps(sorted(m for m in sys.modules if m.startswith(("parley.billing", "holidays")))))
"""


def test_importing_hours_and_the_chat_models_loads_neither_billing_nor_holidays() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def test_a_named_holiday_is_still_evaluated_in_a_fresh_process() -> None:
    """``holidays`` is imported on first use; CO-8's Christmas Day is closed, the 23rd is not."""
    probe = ("import sys; from datetime import date; from parley.hours import hours_preset, day_ranges;"
             "loaded_at_import = 'holidays' in sys.modules; hours = hours_preset('call_on_me');"
             "print(loaded_at_import, day_ranges(hours, date(2026, 12, 25)), day_ranges(hours, date(2026, 12, 23)))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False () ((480, 1020),)"
