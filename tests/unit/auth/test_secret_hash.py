"""SECRET_HASH as Cognito defines it: base64(HMAC-SHA256(key=client secret, message=username +
client id)); every input matters, in that order (the local pool checks it with moto's own code,
tests/integration/test_login_client_secret.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from parley.gateways.cognito_auth import secret_hash

SECRET, CLIENT_ID, USERNAME = "s3cr3t-of-the-client", "4tq1example7client", "7f2c0d3e-user"


def test_the_hmac_of_username_then_client_id_keyed_with_the_secret() -> None:
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{USERNAME}{CLIENT_ID}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert secret_hash(SECRET, CLIENT_ID, USERNAME) == expected
    assert len(base64.b64decode(expected)) == 32


def test_every_input_changes_it() -> None:
    base = secret_hash(SECRET, CLIENT_ID, USERNAME)
    assert secret_hash("another-secret", CLIENT_ID, USERNAME) != base
    assert secret_hash(SECRET, "anotherclient", USERNAME) != base
    assert secret_hash(SECRET, CLIENT_ID, "another-user") != base
    assert secret_hash(SECRET, USERNAME, CLIENT_ID) != base  # username first, then the client id
