"""Who is calling an HTTP route: the Cognito JWT verified, then the role checked
(parley.auth.roles) before a route reads or writes anything."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.auth.roles import StaffRole, require_admin, require_staff
from parley.composition import chat as services
from parley.http import bearer_token

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

    from parley.auth.cognito import AgentClaims


def _claims(app: APIGatewayHttpResolver) -> AgentClaims:
    return services.cognito_verifier().verify(bearer_token(app))


def caller_admin(app: APIGatewayHttpResolver) -> AgentClaims:
    """The caller, if in the `admins` group: 401 `unauthorized` without a valid token, 403
    `admin_required` for anyone else (a supervisor or an agent included)."""
    claims = _claims(app)
    require_admin(claims.groups)
    return claims


def caller_staff(app: APIGatewayHttpResolver, needed: StaffRole = StaffRole.AGENT) -> tuple[AgentClaims, StaffRole]:
    """The caller and their staff role, if at least `needed`: 403 `role_required` otherwise."""
    claims = _claims(app)
    return claims, require_staff(claims.groups, needed)
