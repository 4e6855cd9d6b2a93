"""Settings are validated from the function's environment: bad values fail with the variable's
name, a resource that was not granted raises MissingSetting naming it (never a silent "")."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from parley.settings import MissingSetting, settings_from

BASE = {"AWS_REGION": "us-east-1", "PARLEY_PROVIDER_TIME_ZONE": "Etc/GMT+7"}


def test_granted_resources_are_read() -> None:
    s = settings_from({**BASE, "PARLEY_DATA_TABLE": "data", "PARLEY_COGNITO_USER_POOL_ID": "us-east-1_x"})
    assert s.data_table == "data"
    assert s.cognito_issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x"
    assert s.jwks_url.endswith("/us-east-1_x/.well-known/jwks.json")


def test_a_resource_not_granted_names_its_variable() -> None:
    s = settings_from(BASE)
    with pytest.raises(MissingSetting, match="PARLEY_STRIPE_SECRET_NAME"):
        _ = s.stripe_secret_name
    assert s.websocket_endpoint is None and s.stripe_api_base is None


@pytest.mark.parametrize(("env", "field"), [
    ({**BASE, "PARLEY_PROVIDER_TIME_ZONE": "Mars/Olympus"}, "provider_time_zone"),
    ({"AWS_REGION": "us-east-1"}, "provider_time_zone"),
    ({"PARLEY_PROVIDER_TIME_ZONE": "UTC"}, "region"),
    ({**BASE, "PARLEY_DATA_TABLE": "  "}, "resources"),
    ({**BASE, "PARLEY_VISITOR_TOKEN_TTL_SECONDS": "0"}, "visitor_token_ttl_seconds"),
    ({**BASE, "PARLEY_VISITOR_TOKEN_TTL_SECONDS": "soon"}, "visitor_token_ttl_seconds"),
])
def test_malformed_configuration_fails_naming_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_from(env)
    assert field in str(caught.value)
