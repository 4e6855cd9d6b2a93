"""The deployed user pool takes its password policy from the one source (parley.auth.passwords),
as the local pool (tests/integration/test_signup.py) and the API do."""

from __future__ import annotations

from parley.auth.passwords import PASSWORD_POLICY
from tests.infra.template import Synth


def test_the_pool_password_policy_is_the_python_policy(synth: Synth) -> None:
    pool = synth.resources[synth.logical_id(synth.stack.auth.user_pool)]["Properties"]
    expected = PASSWORD_POLICY.cognito()
    assert {k: pool["Policies"]["PasswordPolicy"][k] for k in expected} == expected
    assert PASSWORD_POLICY.min_length == 12  # the pool required 12 before; the API now does too
