"""Configuration parsed once from the environment into a validated model.

Every function is deployed with exactly the variables its FunctionSpec grants
(`infra/wiring.py: environment_variables`), so the model does not insist on all of them: it
validates what is there at cold start (a malformed time zone, an empty table name or a bad
number fails the first invocation with a message naming the variable) and a resource that was
not granted raises `MissingSetting` naming its variable the moment code asks for it — never a
silent `""` that turns into a confusing AWS error later.

Built lazily (tests set the environment first; reset with `get_settings.cache_clear()`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The variables naming resources a function may be granted (absent when not granted).
RESOURCE_VARIABLES = {
    "data_table": "PARLEY_DATA_TABLE",
    "connections_table": "PARLEY_CONNECTIONS_TABLE",
    "cognito_user_pool_id": "PARLEY_COGNITO_USER_POOL_ID",
    "cognito_client_id": "PARLEY_COGNITO_CLIENT_ID",
    "cognito_client_secret_name": "PARLEY_COGNITO_CLIENT_SECRET_NAME",
    "visitor_token_secret_name": "PARLEY_VISITOR_TOKEN_SECRET_NAME",
    "stripe_secret_name": "PARLEY_STRIPE_SECRET_NAME",
    "collection_queue_url": "PARLEY_COLLECTION_QUEUE_URL",
    "exports_bucket": "PARLEY_EXPORTS_BUCKET",
}


class MissingSetting(RuntimeError):
    def __init__(self, variable: str) -> None:
        super().__init__(f"{variable} is not set: this function's FunctionSpec (infra/wiring.py) does not grant it")
        self.variable = variable


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str = Field(min_length=1)
    provider_time_zone: str = Field(min_length=1, description="PARLEY_PROVIDER_TIME_ZONE (every function)")
    resources: dict[str, str] = Field(default_factory=dict)  # granted resources, by field name
    # The @connections endpoint; on AWS https://{api}.execute-api.{region}.amazonaws.com/{stage}.
    websocket_endpoint: str | None = Field(default=None, min_length=1)
    # Where the user pool's JWKS is served. On AWS it is derived from the issuer; the local stack
    # points it at moto's server (the issuer stays the real AWS URL).
    cognito_jwks_url: str | None = Field(default=None, min_length=1)
    # Only set locally (localstripe), so the SDK's real endpoint is used on AWS.
    stripe_api_base: str | None = Field(default=None, min_length=1)
    visitor_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)

    @field_validator("provider_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"PARLEY_PROVIDER_TIME_ZONE {value!r} is not an IANA time zone") from exc
        return value

    @field_validator("resources")
    @classmethod
    def _no_empty_resource(cls, value: dict[str, str]) -> dict[str, str]:
        for name, resource in value.items():
            if not resource.strip():
                raise ValueError(f"{RESOURCE_VARIABLES[name]} is set but empty")
        return value

    def granted(self, name: str) -> str | None:
        """A resource's name if this function is granted it (for code that works without it)."""
        return self.resources.get(name)

    def _resource(self, name: str) -> str:
        try:
            return self.resources[name]
        except KeyError:
            raise MissingSetting(RESOURCE_VARIABLES[name]) from None

    @property
    def collection_queue_url(self) -> str:
        return self._resource("collection_queue_url")

    @property
    def exports_bucket(self) -> str:
        return self._resource("exports_bucket")

    @property
    def data_table(self) -> str:
        return self._resource("data_table")

    @property
    def connections_table(self) -> str:
        return self._resource("connections_table")

    @property
    def cognito_user_pool_id(self) -> str:
        return self._resource("cognito_user_pool_id")

    @property
    def cognito_client_id(self) -> str:
        return self._resource("cognito_client_id")

    @property
    def cognito_client_secret_name(self) -> str:
        return self._resource("cognito_client_secret_name")

    @property
    def visitor_token_secret_name(self) -> str:
        return self._resource("visitor_token_secret_name")

    @property
    def stripe_secret_name(self) -> str:
        return self._resource("stripe_secret_name")

    @property
    def management_endpoint(self) -> str:
        """The @connections endpoint, for functions granted `manage_connections`."""
        if self.websocket_endpoint is None:
            raise MissingSetting("PARLEY_WEBSOCKET_ENDPOINT")
        return self.websocket_endpoint

    @property
    def cognito_issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.cognito_user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return self.cognito_jwks_url or f"{self.cognito_issuer}/.well-known/jwks.json"


def settings_from(env: Mapping[str, str]) -> Settings:
    """Validate a function's environment (raises pydantic's ValidationError naming the field)."""

    def present(name: str) -> str | None:
        value = env.get(name)
        return value if value else None

    resources = {field: env[var] for field, var in RESOURCE_VARIABLES.items() if var in env}
    optional = {"websocket_endpoint": present("PARLEY_WEBSOCKET_ENDPOINT"),
                "cognito_jwks_url": present("PARLEY_COGNITO_JWKS_URL"),
                "stripe_api_base": present("PARLEY_STRIPE_API_BASE")}
    ttl = env.get("PARLEY_VISITOR_TOKEN_TTL_SECONDS")
    return Settings(
        region=env.get("PARLEY_COGNITO_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "",
        provider_time_zone=env.get("PARLEY_PROVIDER_TIME_ZONE", ""),
        resources=resources,
        **{k: v for k, v in optional.items() if v is not None},
        **({"visitor_token_ttl_seconds": ttl} if ttl else {}),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return settings_from(os.environ)
