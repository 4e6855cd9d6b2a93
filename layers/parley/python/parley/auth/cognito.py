"""Verifying Cognito JWTs as on AWS: signature against the pool's JWKS, `iss`, `token_use`,
the app client, expiry. The JWKS URL comes from configuration (moto serves it locally)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.errors import Unauthorized


@dataclass(frozen=True)
class AgentClaims:
    sub: str
    username: str
    email: str
    groups: tuple[str, ...]


class CognitoVerifier:
    """Built by the functions that verify tokens; PyJWT (and `cryptography` under it, the bulk
    of the cost) is imported then, so a function that merely imports the chat composition root
    does not load it at cold start."""

    def __init__(self, jwks_url: str, issuer: str, client_id: str) -> None:
        import jwt

        self._jwt = jwt
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600)
        self._issuer = issuer
        self._client_id = client_id

    def verify(self, token: str) -> AgentClaims:
        # Expiry is checked against the wall clock, like the issuer's: a token's lifetime is a
        # security property, not business time (the local stack's simulated clock moves billing
        # forward by months; logins must keep working).
        jwt = self._jwt
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=["RS256"], issuer=self._issuer,
                options={"verify_aud": False, "require": ["exp", "iss", "sub", "token_use"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"the token is not valid ({type(exc).__name__})") from exc
        token_use = claims["token_use"]
        audience = claims.get("aud") if token_use == "id" else claims.get("client_id")
        if token_use not in ("id", "access") or audience != self._client_id:
            raise Unauthorized("the token was not issued for this app")
        return AgentClaims(
            sub=str(claims["sub"]),
            username=str(claims.get("cognito:username") or claims.get("username") or ""),
            email=str(claims.get("email", "")),
            groups=tuple(claims.get("cognito:groups", [])),
        )
