"""The local stack's control endpoints (Lambda Invoke, the clock) answer only on their own
loopback port, to a request carrying the run's token and no Origin header (issue 11, case 11);
the public gateway answers 404 where they used to be, and the clock does not move."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.local.control import ControlAccess

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
INVOKE = "/2015-03-31/functions/client_billing/invocations"
# An HTTP API event (payload 2.0) without credentials: the function runs and answers 401.
UNSIGNED_BILLING_REQUEST = json.dumps({
    "version": "2.0", "routeKey": "GET /api/client/billing", "rawPath": "/api/client/billing", "rawQueryString": "",
    "headers": {}, "requestContext": {"http": {"method": "GET", "path": "/api/client/billing", "sourceIp": "127.0.0.1",
                                                "protocol": "HTTP/1.1", "userAgent": "test"},
                                       "routeKey": "GET /api/client/billing", "stage": "$default",
                                       "requestId": "r1", "accountId": "000000000000", "apiId": "local",
                                       "domainName": "127.0.0.1", "time": "", "timeEpoch": 0},
    "isBase64Encoded": False})


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _send(method: str, url: str, headers: dict[str, str] | None = None, data: str | None = None) -> Answer:
    request = urllib.request.Request(url, data=data.encode() if data is not None else None, method=method,
                                     headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return Answer(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as refused:
        return Answer(refused.code, dict(refused.headers), refused.read())


def _now(stack: Any) -> datetime:
    """The stack's time as the public gateway shows it (read-only there)."""
    return datetime.fromisoformat(_send("GET", f"{stack.base_url}/_local/clock").json()["now"])


def _unmoved(stack: Any, before: datetime) -> bool:
    return timedelta(0) <= _now(stack) - before < timedelta(minutes=5)  # the clock runs, it did not jump


@pytest.fixture
def control(local_stack: Any) -> ControlAccess:
    return ControlAccess.read(local_stack.control_file)


def test_the_control_file_is_the_users_alone_and_names_the_control_port(local_stack: Any,
                                                                         control: ControlAccess) -> None:
    mode = stat.S_IMODE(local_stack.control_file.stat().st_mode)
    assert mode == 0o600
    assert control.url.startswith("http://127.0.0.1:") and control.url != local_stack.base_url
    assert len(control.token) >= 40


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic abc"}],
                         ids=["no token", "wrong token", "other scheme"])
def test_a_request_without_the_right_token_is_refused_and_changes_nothing(
        local_stack: Any, control: ControlAccess, headers: dict[str, str]) -> None:
    before = _now(local_stack)
    moved = _send("POST", f"{control.url}/_local/clock", data=json.dumps({"days": 3}), headers=headers)
    invoked = _send("POST", f"{control.url}{INVOKE}", data=UNSIGNED_BILLING_REQUEST, headers=headers)
    read = _send("GET", f"{control.url}/_local/clock", headers=headers)
    assert [moved.status_code, invoked.status_code, read.status_code] == [401, 401, 401]
    assert moved.json()["code"] == "unauthorized"
    assert _unmoved(local_stack, before)  # not three days on


def test_a_token_in_the_query_string_is_not_a_token(local_stack: Any, control: ControlAccess) -> None:
    answer = _send("POST", f"{control.url}/_local/clock?token={control.token}", data=json.dumps({"days": 3}))
    assert answer.status_code == 401


def test_a_browser_request_is_refused_even_with_the_token(local_stack: Any, control: ControlAccess) -> None:
    """A page cannot read the token; should it learn it, its request still carries Origin."""
    before = _now(local_stack)
    headers = {**control.headers, "Origin": "http://evil.test", "Content-Type": "text/plain"}
    moved = _send("POST", f"{control.url}/_local/clock", data=json.dumps({"days": 3}), headers=headers)
    assert moved.status_code == 403 and moved.json()["code"] == "forbidden"
    assert "Access-Control-Allow-Origin" not in moved.headers
    preflight = _send("OPTIONS", f"{control.url}/_local/clock", headers={
        "Origin": "http://evil.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 403 and "Access-Control-Allow-Origin" not in preflight.headers
    assert _unmoved(local_stack, before)


def test_a_request_for_another_host_name_is_refused(local_stack: Any, control: ControlAccess) -> None:
    """DNS rebinding: a page whose own domain now resolves to 127.0.0.1 sends its domain as Host."""
    answer = _send("GET", f"{control.url}/_local/clock", headers={**control.headers, "Host": "evil.test"})
    assert answer.status_code == 403


def test_the_public_gateway_no_longer_invokes_functions_or_moves_the_clock(local_stack: Any) -> None:
    """What a cross-origin page could send before: a text/plain POST (no preflight)."""
    before = _now(local_stack)
    plain = {"Content-Type": "text/plain", "Origin": "http://evil.test"}
    invoked = _send("POST", f"{local_stack.base_url}/2015-03-31/functions/cancellation/invocations",
                    data=json.dumps({"action": "delete_data", "client_id": "cl_harbor"}), headers=plain)
    moved = _send("POST", f"{local_stack.base_url}/_local/clock", data=json.dumps({"days": 30}), headers=plain)
    assert [invoked.status_code, moved.status_code] == [404, 404]
    assert _unmoved(local_stack, before)


def test_with_the_token_the_control_server_invokes_and_reads_the_clock(local_stack: Any,
                                                                        control: ControlAccess) -> None:
    invoked = _send("POST", f"{control.url}{INVOKE}", data=UNSIGNED_BILLING_REQUEST, headers=control.headers)
    assert invoked.status_code == 200 and "X-Amz-Function-Error" not in invoked.headers
    assert invoked.json()["statusCode"] == 401  # the function's own answer
    now = _send("GET", f"{control.url}/_local/clock", headers=control.headers)
    assert now.status_code == 200
    assert abs(datetime.fromisoformat(now.json()["now"]) - _now(local_stack)) < timedelta(minutes=1)


def _parley(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300, check=False)


def test_parley_clock_with_a_wrong_token_in_the_control_file_is_refused(
        local_stack: Any, control: ControlAccess, tmp_path: Path) -> None:
    forged = tmp_path / "control.json"
    forged.write_text(json.dumps({"url": control.url, "token": "not-the-token"}))
    done = _parley("clock", "advance", "--days", "1", "--control-file", str(forged))
    assert done.returncode == 1 and "HTTP 401" in done.stderr


def test_parley_clock_without_a_control_file_says_the_stack_is_not_running(tmp_path: Path) -> None:
    done = _parley("clock", "--control-file", str(tmp_path / "absent.json"))
    assert done.returncode == 1 and "is `make dev` running?" in done.stderr


def test_a_page_cannot_post_into_a_connection_through_the_management_api(local_stack: Any) -> None:
    """@connections is IAM-signed on AWS; locally the gateway refuses any request with an Origin."""
    answer = _send("POST", f"{local_stack.gateway.management_endpoint}/@connections/someConnId=",
                   headers={"Origin": "http://evil.test", "Content-Type": "text/plain"}, data='{"type":"x"}')
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    unknown = _send("POST", f"{local_stack.gateway.management_endpoint}/@connections/someConnId=", data='{"type":"x"}')
    assert unknown.status_code == 410  # without Origin (as boto3 sends it): the API as before


def test_a_page_cannot_reset_or_read_moto(local_stack: Any) -> None:
    """moto's CORS is open and /moto-api/reset is a plain POST: a page, or a rebound host name,
    is refused; the tables are still there."""
    reset = _send("POST", f"{local_stack.moto_url}/moto-api/reset", headers={"Origin": "http://evil.test"})
    rebound = _send("GET", f"{local_stack.moto_url}/moto-api/data.json", headers={"Host": "evil.test"})
    assert [reset.status_code, rebound.status_code] == [403, 403]
    assert local_stack.boto("dynamodb").list_tables()["TableNames"]
