"""The app client is confidential: only auth_login, which holds the client secret, can sign anyone
in. An attacker who read the public client id from a site's config.json and calls Cognito's
InitiateAuth / RespondToAuthChallenge directly — to go around the login rate limits, or to take
an admin's tokens before the forced TOTP setup — is refused for the missing SECRET_HASH, as
Cognito does; POST /api/auth/login still signs in, MFA included."""

from __future__ import annotations

import json
import secrets
import urllib.request

import pyotp
import pytest
from botocore.exceptions import ClientError

from infra.local.stack import COGNITO_CLIENT_SECRET_NAME, LocalStack
from parley.auth.roles import Group
from parley.gateways.cognito_auth import secret_hash
from tests.integration.identity_support import call, fresh_ip

pytestmark = pytest.mark.integration
PASSWORD = "Secret-hash-2026!"


def new_user(stack: LocalStack, group: Group) -> str:
    username = f"secret-{secrets.token_hex(4)}"
    stack.create_user(username, PASSWORD, group.value)
    return username


def refused_for_the_secret_hash(error: pytest.ExceptionInfo[ClientError], client_id: str) -> bool:
    reply = error.value.response["Error"]
    return (reply["Code"], reply["Message"]) == ("NotAuthorizedException",
                                                 f"Unable to verify secret hash for client {client_id}")


def test_direct_initiate_auth_with_the_public_client_id_is_refused(local_stack: LocalStack) -> None:
    admin = new_user(local_stack, Group.ADMINS)  # no TOTP yet: auth_login would force its setup
    idp, client_id = local_stack.boto("cognito-idp"), local_stack.user_pool_client_id
    attempts = {
        "no SECRET_HASH": {"USERNAME": admin, "PASSWORD": PASSWORD},
        "a guessed secret": {"USERNAME": admin, "PASSWORD": PASSWORD,
                             "SECRET_HASH": secret_hash(secrets.token_urlsafe(32), client_id, admin)},
        "another user's hash": {"USERNAME": admin, "PASSWORD": PASSWORD,
                                "SECRET_HASH": local_stack_hash(local_stack, "someone-else")},
    }
    for what, parameters in attempts.items():
        with pytest.raises(ClientError) as refused:
            idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters=parameters)
        assert refused_for_the_secret_hash(refused, client_id), (what, refused.value.response)
    # A wrong password says nothing more (no oracle for guessing around the rate limits).
    with pytest.raises(ClientError) as refused:
        idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": admin, "PASSWORD": "Wrong-pass-2026!"})
    assert refused_for_the_secret_hash(refused, client_id), refused.value.response

    # Through the API the same admin still has to set up TOTP before any token.
    status, setup, _ = call(local_stack, "POST", "/api/auth/login", {"username": admin, "password": PASSWORD},
                            source_ip=fresh_ip())
    assert (status, setup["code"]) == (409, "mfa_setup_required") and "idToken" not in setup, setup
    totp = pyotp.TOTP(setup["secretCode"])
    status, tokens, _ = call(local_stack, "POST", "/api/auth/mfa/setup",
                             {"setupSession": setup["setupSession"], "totpCode": totp.now()})
    assert status == 200 and tokens["idToken"], tokens
    status, body, _ = call(local_stack, "POST", "/api/auth/login",
                           {"username": admin, "password": PASSWORD, "totpCode": totp.now()}, source_ip=fresh_ip())
    assert status == 200 and body["idToken"], body


def local_stack_hash(stack: LocalStack, username: str) -> str:
    """The right secret's hash, of a given username (what auth_login would send for that user)."""
    secret = stack.boto("secretsmanager").get_secret_value(SecretId=COGNITO_CLIENT_SECRET_NAME)["SecretString"]
    return secret_hash(secret, stack.user_pool_client_id, username)


def test_a_challenge_answered_without_the_secret_hash_is_refused(local_stack: LocalStack) -> None:
    """Even with a genuine MFA session in hand, answering it directly needs the secret."""
    admin = local_stack.demo.admin_username  # enrolled in TOTP at start
    started = local_stack.sign_in(admin, local_stack.demo.agent_password)
    assert started["ChallengeName"] == "SOFTWARE_TOKEN_MFA", started
    code = pyotp.TOTP(local_stack.demo.totp_secrets[admin]).now()
    with pytest.raises(ClientError) as refused:
        local_stack.boto("cognito-idp").respond_to_auth_challenge(
            ClientId=local_stack.user_pool_client_id, ChallengeName="SOFTWARE_TOKEN_MFA", Session=started["Session"],
            ChallengeResponses={"USERNAME": admin, "SOFTWARE_TOKEN_MFA_CODE": code})
    assert refused_for_the_secret_hash(refused, local_stack.user_pool_client_id), refused.value.response


def test_the_sites_config_does_not_carry_the_secret(local_stack: LocalStack) -> None:
    secret = local_stack.boto("secretsmanager").get_secret_value(SecretId=COGNITO_CLIENT_SECRET_NAME)["SecretString"]
    for site in ("widget", "console", "dashboard"):
        with urllib.request.urlopen(f"{local_stack.base_url}/{site}/config.json", timeout=10) as reply:
            raw = reply.read().decode()
        assert json.loads(raw)["cognitoClientId"] == local_stack.user_pool_client_id
        assert secret not in raw, site
