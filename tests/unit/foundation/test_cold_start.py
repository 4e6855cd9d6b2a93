"""Inside a Lambda environment a misconfigured function fails at import (cold start), naming the
variable; outside Lambda (the local stack's own process, tests) nothing is checked at import."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[3] / "layers" / "parley" / "python"


def import_handler_module(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(LAYER)}
    return subprocess.run([sys.executable, "-c", "import parley.observability"], env={**base, **env},
                          capture_output=True, text=True, timeout=60, check=False)


def test_a_lambda_environment_with_a_bad_time_zone_fails_at_import() -> None:
    result = import_handler_module({"AWS_LAMBDA_FUNCTION_NAME": "chat_message", "AWS_REGION": "us-east-1",
                                    "PARLEY_PROVIDER_TIME_ZONE": "Mars/Olympus"})
    assert result.returncode != 0
    assert "PARLEY_PROVIDER_TIME_ZONE" in result.stderr and "Mars/Olympus" in result.stderr


def test_a_well_configured_lambda_environment_imports() -> None:
    result = import_handler_module({"AWS_LAMBDA_FUNCTION_NAME": "chat_message", "AWS_REGION": "us-east-1",
                                    "PARLEY_PROVIDER_TIME_ZONE": "Etc/GMT+7"})
    assert result.returncode == 0, result.stderr


def test_outside_lambda_nothing_is_checked_at_import() -> None:
    assert import_handler_module({}).returncode == 0
