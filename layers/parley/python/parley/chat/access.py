"""Who may open a WebSocket connection. Run by the `$connect` authorizer (`chat_authorizer`)
once per connection; the identity it establishes travels with the connection (see
`parley.chat.identity`). `widget_client` is also the check of `POST /api/visitor/session`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.chat.models import Client, ClientStatus, Identity, Role
from parley.clock import Clock
from parley.errors import ClientDisabled, Forbidden, OriginNotAllowed, Unauthorized, UnknownWidgetKey
from parley.repositories.tenants import TenantRepository

if TYPE_CHECKING:  # the JWT library is the authorizer's alone (its cold start, not the chat's)
    from parley.auth.cognito import AgentClaims
    from parley.auth.visitor_token import VisitorTokens


class ConnectAccess:
    def __init__(self, tenants: TenantRepository, clock: Clock) -> None:
        self._tenants = tenants
        self._clock = clock

    def widget_client(self, widget_key: str | None, origin: str | None) -> Client:
        """The client behind a widget key, if the page's Origin is one it allows."""
        if not widget_key:
            raise Unauthorized("widgetKey is required")
        client = self._tenants.client_by_widget_key(widget_key)
        if client is None:
            raise UnknownWidgetKey("unknown widget key")
        if client.status is ClientStatus.DISABLED:
            raise ClientDisabled("this widget is disabled")
        if not client.allows_origin(origin):
            raise OriginNotAllowed(f"origin {origin!r} is not allowed for this widget")
        return client

    def visitor(self, widget_key: str | None, origin: str | None, visitor_token: str | None,
                tokens: VisitorTokens) -> Identity:
        client = self.widget_client(widget_key, origin)
        if not visitor_token:
            raise Unauthorized("visitorToken is required")
        claims = tokens.verify(visitor_token, self._clock.now())
        if claims.client_id != client.client_id:
            raise Unauthorized("the visitor token was issued for another client")
        return Identity(role=Role.VISITOR, user_id=claims.visitor_id, client_ids=(client.client_id,), name="Visitor")

    def agent(self, claims: AgentClaims) -> Identity:
        agent = self._tenants.get_agent(claims.sub)
        # The clients it serves: its own plus those of its teams (one BatchGetItem for the teams).
        served = self._tenants.served_client_ids(agent) if agent is not None and agent.enabled else []
        if agent is None or not served:
            raise Forbidden("this account is not an enabled agent")
        return Identity(role=Role.AGENT, user_id=agent.agent_id, client_ids=tuple(served), name=agent.name,
                        staff_role=agent.role)
