"""Configuration parsed once from the environment into a typed model (lazily, so tests can
set the environment before first use and reset with `get_settings.cache_clear()`)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    data_table: str = Field(default="", description="PARLEY_DATA_TABLE")
    connections_table: str = Field(default="", description="PARLEY_CONNECTIONS_TABLE")
    region: str = Field(default="us-east-1")
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    # Where the user pool's JWKS is served. On AWS it is derived from the issuer; the
    # local stack points it at moto's server (the issuer stays the real AWS URL).
    cognito_jwks_url: str = ""
    visitor_token_secret_name: str = ""
    # The @connections endpoint; on AWS https://{api}.execute-api.{region}.amazonaws.com/{stage}.
    websocket_endpoint: str = ""
    visitor_token_ttl_seconds: int = 30 * 24 * 3600
    # Stripe: a Secrets Manager secret holding {"api_key", "webhook_secret"}; the API base is
    # only set locally (localstripe), so the SDK's real endpoint is used on AWS.
    stripe_secret_name: str = ""
    stripe_api_base: str = ""
    provider_time_zone: str = "America/Phoenix"

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return self.cognito_jwks_url or f"{self.cognito_issuer}/.well-known/jwks.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    env = os.environ
    return Settings(
        data_table=env.get("PARLEY_DATA_TABLE", ""),
        connections_table=env.get("PARLEY_CONNECTIONS_TABLE", ""),
        region=env.get("PARLEY_COGNITO_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
        or "us-east-1",
        cognito_user_pool_id=env.get("PARLEY_COGNITO_USER_POOL_ID", ""),
        cognito_client_id=env.get("PARLEY_COGNITO_CLIENT_ID", ""),
        cognito_jwks_url=env.get("PARLEY_COGNITO_JWKS_URL", ""),
        visitor_token_secret_name=env.get("PARLEY_VISITOR_TOKEN_SECRET_NAME", ""),
        websocket_endpoint=env.get("PARLEY_WEBSOCKET_ENDPOINT", ""),
        stripe_secret_name=env.get("PARLEY_STRIPE_SECRET_NAME", ""),
        stripe_api_base=env.get("PARLEY_STRIPE_API_BASE", ""),
        provider_time_zone=env.get("PARLEY_PROVIDER_TIME_ZONE", "America/Phoenix"),
    )
