"""Signup and identity against the local stack (moto's Cognito, the real email path to local SMTP):
a refused password never locks an email out, the Cognito username is opaque, an email is one
account in any letter case, the password policy has one source, the email is verified by a
mailed code before the account is usable, and signups are rate-limited per IP and per domain."""

from __future__ import annotations

import re
import secrets
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from infra.local.stack import LocalStack
from parley import services
from parley.auth.passwords import PASSWORD_POLICY
from parley.auth.signup import CODE_TTL, MAX_ATTEMPTS, SignupLimits
from tests.integration.identity_support import call, fresh_ip, signup_verified, verification_codes

pytestmark = pytest.mark.integration
PASSWORD = "Signup-pass-2026!"
ROOT = Path(__file__).resolve().parents[2]


def new_email(domain: str = "signup.test") -> str:
    return f"owner-{secrets.token_hex(5)}@{domain}"


def form(email: str, password: str = PASSWORD, company: str = "Tidewater Books") -> dict[str, str]:
    return {"company": company, "email": email, "password": password, "website": "https://tidewater.test"}


def pool_users(stack: LocalStack, email: str) -> list[dict[str, Any]]:
    users = stack.boto("cognito-idp").list_users(UserPoolId=stack.user_pool_id, Filter=f'email = "{email}"')["Users"]
    return list(users)


def attributes(user: dict[str, Any]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user["Attributes"]}


def clients_named(company: str) -> list[str]:
    return [c.client_id for c in services.tenant_repository().list_clients() if c.name == company]


def test_a_weak_password_is_refused_and_does_not_lock_the_email_out(local_stack: LocalStack) -> None:
    email, ip = new_email(), fresh_ip()
    status, body, _ = call(local_stack, "POST", "/api/signup", form(email, "password"), source_ip=ip)
    assert (status, body["code"]) == (400, "invalid_request"), body
    assert "at least 12 characters" in body["message"] and "a digit" in body["message"]
    assert pool_users(local_stack, email) == []  # nothing was created
    # 8-11 characters with every class: refused by the same policy the pool enforces.
    status, body, _ = call(local_stack, "POST", "/api/signup", form(email, "Short-p4ss!"), source_ip=ip)
    assert (status, body["code"]) == (400, "invalid_request"), body
    assert pool_users(local_stack, email) == []

    signed_up = signup_verified(local_stack, "Tidewater Books", email, PASSWORD, "https://tidewater.test", ip)
    assert signed_up["clientId"].startswith("cl_tidewater-books_")


def test_the_username_is_opaque_and_the_email_an_unverified_attribute_until_the_code(local_stack: LocalStack) -> None:
    email, ip = new_email(), fresh_ip()
    status, started, _ = call(local_stack, "POST", "/api/signup", form(email, company="Opaque Ltd"), source_ip=ip)
    assert status == 202 and started == {"status": "verification_sent", "email": email, "expiresIn": 900}, started
    (user,) = pool_users(local_stack, email)
    uuid.UUID(user["Username"])  # an opaque id, never the email
    assert attributes(user)["email"] == email and attributes(user)["email_verified"] == "false"
    idp = local_stack.boto("cognito-idp")
    groups = idp.admin_list_groups_for_user(UserPoolId=local_stack.user_pool_id, Username=user["Username"])["Groups"]
    assert groups == []
    assert clients_named("Opaque Ltd") == []  # no tenant before the code

    (code,) = verification_codes(local_stack, email)
    status, verified, _ = call(local_stack, "POST", "/api/signup/verify", {"email": email, "code": code}, source_ip=ip)
    assert status == 200, verified
    (user,) = pool_users(local_stack, email)
    assert attributes(user)["email_verified"] == "true"
    groups = idp.admin_list_groups_for_user(UserPoolId=local_stack.user_pool_id, Username=user["Username"])["Groups"]
    assert [g["GroupName"] for g in groups] == ["clients"]
    assert clients_named("Opaque Ltd") == [verified["clientId"]]
    assert services.tenant_repository().client_of_user(attributes(user)["sub"]) == verified["clientId"]


def test_an_email_address_is_one_account_in_any_letter_case(local_stack: LocalStack) -> None:
    email = new_email()
    shouting = f"  {email.upper()} "
    signed_up = signup_verified(local_stack, "Case Co", shouting, PASSWORD, "https://case.test")
    (user,) = pool_users(local_stack, email)
    assert attributes(user)["email"] == email  # stored trimmed and lower-cased
    account = services.billing_service().ledger.account(signed_up["clientId"])
    assert account is not None and account.email == email

    status, body, _ = call(local_stack, "POST", "/api/signup", form(email.capitalize(), company="Case Co Again"),
                           source_ip=fresh_ip())
    assert (status, body["code"]) == (409, "email_taken"), body
    assert len(pool_users(local_stack, email)) == 1 and clients_named("Case Co Again") == []
    for given in (email, email.upper()):  # and it signs in in any case
        status, tokens, _ = call(local_stack, "POST", "/api/auth/login", {"username": given, "password": PASSWORD})
        assert status == 200 and tokens["idToken"], tokens


def test_the_account_is_unusable_until_the_code_and_wrong_codes_run_out(local_stack: LocalStack) -> None:
    email, ip = new_email(), fresh_ip()
    assert call(local_stack, "POST", "/api/signup", form(email, company="Unverified Ltd"), source_ip=ip)[0] == 202
    status, body, _ = call(local_stack, "POST", "/api/auth/login", {"username": email, "password": PASSWORD})
    assert (status, body["code"]) == (403, "email_not_verified"), body
    assert "idToken" not in body
    status, body, _ = call(local_stack, "POST", "/api/auth/login", {"username": email, "password": "Wrong-pass-2026!"})
    assert (status, body["code"]) == (401, "invalid_credentials"), body  # the password is still checked first

    (code,) = verification_codes(local_stack, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in range(1, MAX_ATTEMPTS + 1):
        status, body, _ = call(local_stack, "POST", "/api/signup/verify", {"email": email, "code": wrong})
        assert (status, body["code"]) == (400, "invalid_code"), (attempt, body)
    status, body, _ = call(local_stack, "POST", "/api/signup/verify", {"email": email, "code": code})
    assert (status, body["code"]) == (400, "code_expired"), body  # the right code, but no guesses left
    assert clients_named("Unverified Ltd") == []

    status, body, _ = call(local_stack, "POST", "/api/signup/resend", {"email": email.upper()})
    assert status == 202, body
    first, fresh = verification_codes(local_stack, email)
    assert first == code
    status, verified, _ = call(local_stack, "POST", "/api/signup/verify", {"email": email, "code": fresh})
    assert status == 200, verified
    status, tokens, _ = call(local_stack, "POST", "/api/auth/login", {"username": email, "password": PASSWORD})
    assert status == 200 and tokens["idToken"], tokens
    status, again, _ = call(local_stack, "POST", "/api/signup/verify", {"email": email, "code": fresh})
    assert (status, again["code"]) == (400, "invalid_code")  # used once
    assert clients_named("Unverified Ltd") == [verified["clientId"]]


def test_an_unverified_signup_gives_way_to_the_mailbox_owner(local_stack: LocalStack) -> None:
    """Someone else signs up with your address and never verifies: your own signup replaces it."""
    email = new_email()
    assert call(local_stack, "POST", "/api/signup", form(email, company="Squatter"), source_ip=fresh_ip())[0] == 202
    (squatter,) = pool_users(local_stack, email)
    signed_up = signup_verified(local_stack, "Rightful Owner", email, PASSWORD, "https://owner.test")
    (owner,) = pool_users(local_stack, email)
    assert owner["Username"] != squatter["Username"]
    assert clients_named("Squatter") == [] and clients_named("Rightful Owner") == [signed_up["clientId"]]


def test_a_code_is_valid_for_fifteen_minutes_not_a_second_more(local_stack: LocalStack) -> None:
    clock = local_stack.clock
    was_frozen, start = clock.frozen, clock.now()
    clock.set(start)  # frozen: the edges are exact
    try:
        on_time, late = new_email(), new_email()
        for email in (on_time, late):
            assert call(local_stack, "POST", "/api/signup", form(email, company="Clocked Co"),
                        source_ip=fresh_ip())[0] == 202
        clock.set(start + CODE_TTL - timedelta(seconds=1))
        (code,) = verification_codes(local_stack, on_time)
        status, body, _ = call(local_stack, "POST", "/api/signup/verify", {"email": on_time, "code": code})
        assert status == 200, body
        clock.set(start + CODE_TTL)
        (code,) = verification_codes(local_stack, late)
        status, body, _ = call(local_stack, "POST", "/api/signup/verify", {"email": late, "code": code})
        assert (status, body["code"]) == (400, "code_expired"), body
    finally:
        if not was_frozen:
            clock.unfreeze()


def test_signups_are_limited_per_source_ip_and_a_refused_one_creates_nothing(local_stack: LocalStack) -> None:
    ip, limit = fresh_ip(), SignupLimits().per_ip.limit
    for n in range(limit):
        status, body, _ = call(local_stack, "POST", "/api/signup", form(new_email(f"d{n}-{ip}.test")), source_ip=ip)
        assert status == 202, (n, body)
    email = new_email("one-more.test")
    status, body, headers = call(local_stack, "POST", "/api/signup", form(email), source_ip=ip)
    assert (status, body["code"]) == (429, "rate_limited"), body
    assert isinstance(body["retryAfter"], int) and 1 <= body["retryAfter"] <= 3600
    assert headers["retry-after"] == str(body["retryAfter"])
    assert pool_users(local_stack, email) == [] and verification_codes(local_stack, email) == []
    assert call(local_stack, "POST", "/api/signup", form(email), source_ip=fresh_ip())[0] == 202  # another IP may


def test_signups_are_limited_per_email_domain(local_stack: LocalStack) -> None:
    domain, limit = f"flooded-{secrets.token_hex(3)}.test", SignupLimits().per_domain.limit
    for n in range(limit):
        status, body, _ = call(local_stack, "POST", "/api/signup", form(new_email(domain)), source_ip=fresh_ip())
        assert status == 202, (n, body)
    email = new_email(domain)
    status, body, headers = call(local_stack, "POST", "/api/signup", form(email), source_ip=fresh_ip())
    assert (status, body["code"]) == (429, "rate_limited") and headers["retry-after"], body
    assert pool_users(local_stack, email) == []


def test_code_resends_are_limited_per_email(local_stack: LocalStack) -> None:
    email = new_email()
    assert call(local_stack, "POST", "/api/signup", form(email), source_ip=fresh_ip())[0] == 202
    for _ in range(SignupLimits().resend_per_email.limit):
        assert call(local_stack, "POST", "/api/signup/resend", {"email": email})[0] == 202
    status, body, headers = call(local_stack, "POST", "/api/signup/resend", {"email": email})
    assert (status, body["code"]) == (429, "rate_limited") and int(headers["retry-after"]) >= 1, body
    assert len(verification_codes(local_stack, email)) == 1 + SignupLimits().resend_per_email.limit


def test_the_password_policy_has_one_source(local_stack: LocalStack) -> None:
    """The local pool, the API and the dashboard form all take it from parley.auth.passwords (the
    CDK pool too: tests/infra/test_infra_auth.py)."""
    pool = local_stack.boto("cognito-idp").describe_user_pool(UserPoolId=local_stack.user_pool_id)["UserPool"]
    expected = PASSWORD_POLICY.cognito()
    assert {k: pool["Policies"]["PasswordPolicy"][k] for k in expected} == expected
    status, body, _ = call(local_stack, "GET", "/api/signup/policy")
    assert status == 200 and body == {"password": PASSWORD_POLICY.public()}
    form_source = (ROOT / "dashboard" / "src" / "signup.js").read_text()
    assert "/api/signup/policy" in form_source
    # No length of its own: the form's numbers are the API's.
    assert not re.search(r"length\s*[<>]=?\s*\d", form_source), "the signup form hard-codes a password length"
