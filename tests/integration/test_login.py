"""Sign-in against the local stack: brute force slowed per user and per source IP, TOTP MFA for
anyone who sets it up, and required for admins and supervisors (codes computed with pyotp, as an
authenticator app would)."""

from __future__ import annotations

import secrets
from typing import Any

import pyotp
import pytest

from infra.local.stack import LocalStack
from parley.auth.login import LoginLimits
from parley.auth.roles import Group
from tests.integration.identity_support import call, fresh_ip

pytestmark = pytest.mark.integration
PASSWORD = "Login-pass-2026!"


def new_user(stack: LocalStack, group: Group = Group.AGENTS) -> str:
    username = f"login-{secrets.token_hex(4)}"
    stack.create_user(username, PASSWORD, group.value)
    return username


def login(stack: LocalStack, ip: str | None = None, **body: Any) -> tuple[int, Any, dict[str, str]]:
    return call(stack, "POST", "/api/auth/login", body, source_ip=ip or fresh_ip())


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_failed_sign_ins_are_limited_per_user_and_then_even_the_right_password_waits(local_stack: LocalStack) -> None:
    username, neighbour = new_user(local_stack), new_user(local_stack)
    for _ in range(LoginLimits().failures_per_user.limit):  # each from its own address
        status, body, _ = login(local_stack, username=username, password="Wrong-pass-2026!")
        assert (status, body["code"]) == (401, "invalid_credentials"), body
    status, body, headers = login(local_stack, username=username, password=PASSWORD)
    assert (status, body["code"]) == (429, "rate_limited"), body
    assert "idToken" not in body and headers["retry-after"] == str(body["retryAfter"])
    assert 1 <= body["retryAfter"] <= LoginLimits().failures_per_user.window_seconds
    status, body, _ = login(local_stack, username=username.upper(), password=PASSWORD)  # any spelling of the name
    assert status == 429, body
    status, body, _ = login(local_stack, username=neighbour, password=PASSWORD)  # others are not held up
    assert status == 200 and body["idToken"], body


def test_failed_sign_ins_are_limited_per_source_ip(local_stack: LocalStack) -> None:
    ip, username = fresh_ip(), new_user(local_stack)
    for n in range(LoginLimits().failures_per_ip.limit):  # many names, one address
        status, body, _ = login(local_stack, ip, username=f"guess-{n}-{secrets.token_hex(2)}", password="Nope-2026!xx")
        assert status == 401, (n, body)
    status, body, headers = login(local_stack, ip, username=username, password=PASSWORD)
    assert (status, body["code"]) == (429, "rate_limited") and int(headers["retry-after"]) >= 1, body
    status, body, _ = login(local_stack, fresh_ip(), username=username, password=PASSWORD)
    assert status == 200, body


def test_any_user_can_set_up_totp_and_then_signs_in_with_a_code(local_stack: LocalStack) -> None:
    username = new_user(local_stack)
    status, setup, _ = login(local_stack, username=username, password=PASSWORD, setupMfa=True)
    assert (status, setup["code"]) == (409, "mfa_setup_required"), setup
    assert "idToken" not in setup and setup["otpauthUri"].startswith("otpauth://totp/Parley:")
    totp = pyotp.TOTP(setup["secretCode"])
    finish = {"setupSession": setup["setupSession"]}
    status, body, _ = call(local_stack, "POST", "/api/auth/mfa/setup", {**finish, "totpCode": other_code(totp.now())})
    assert (status, body["code"]) == (401, "invalid_mfa_code"), body
    status, tokens, _ = call(local_stack, "POST", "/api/auth/mfa/setup", {**finish, "totpCode": totp.now()})
    assert status == 200 and tokens["idToken"] and tokens["accessToken"], tokens
    status, body, _ = call(local_stack, "POST", "/api/auth/mfa/setup", {**finish, "totpCode": totp.now()})
    assert (status, body["code"]) == (401, "unauthorized"), body  # a setup finishes once

    status, body, _ = login(local_stack, username=username, password=PASSWORD)
    assert (status, body["code"]) == (409, "mfa_required") and "idToken" not in body, body
    status, body, _ = login(local_stack, username=username, password=PASSWORD, totpCode=other_code(totp.now()))
    assert (status, body["code"]) == (401, "invalid_mfa_code"), body
    status, body, _ = login(local_stack, username=username, password=PASSWORD, totpCode=totp.now())
    assert status == 200 and body["idToken"], body


@pytest.mark.parametrize("group", [Group.ADMINS, Group.SUPERVISORS])
def test_admins_and_supervisors_are_forced_to_set_up_totp_before_any_token(local_stack: LocalStack,
                                                                           group: Group) -> None:
    username = new_user(local_stack, group)
    status, setup, _ = login(local_stack, username=username, password=PASSWORD)
    assert (status, setup["code"]) == (409, "mfa_setup_required") and "idToken" not in setup, setup
    status, again, _ = login(local_stack, username=username, password=PASSWORD)  # still no way round it
    assert (status, again["code"]) == (409, "mfa_setup_required"), again
    totp = pyotp.TOTP(again["secretCode"])
    status, tokens, _ = call(local_stack, "POST", "/api/auth/mfa/setup",
                             {"setupSession": again["setupSession"], "totpCode": totp.now()})
    assert status == 200, tokens
    if group is Group.ADMINS:
        status, body, _ = call(local_stack, "GET", "/api/admin/clients", token=tokens["idToken"])
        assert status == 200, body
    status, body, _ = login(local_stack, username=username, password=PASSWORD, totpCode=totp.now())
    assert status == 200 and body["idToken"], body


def test_the_demo_admin_signs_in_with_the_printed_secret(local_stack: LocalStack) -> None:
    admin = local_stack.demo.admin_username
    status, body, _ = login(local_stack, username=admin, password=local_stack.demo.agent_password)
    assert (status, body["code"]) == (409, "mfa_required"), body
    code = pyotp.TOTP(local_stack.demo.totp_secrets[admin]).now()
    status, body, _ = login(local_stack, username=admin, password=local_stack.demo.agent_password, totpCode=code)
    assert status == 200 and body["idToken"], body


def test_a_name_that_cannot_be_looked_up_is_wrong_credentials_not_an_error(local_stack: LocalStack) -> None:
    for given in ('ad"min', 'x\\" or email = "a@b.c', "alex\\"):
        status, body, _ = login(local_stack, username=given, password=PASSWORD)
        assert (status, body["code"]) == (401, "invalid_credentials"), (given, body)
