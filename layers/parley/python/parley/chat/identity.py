"""A connection's identity as it travels in the `$connect` authorizer's `context`.

The `chat_authorizer` function authenticates a visitor or an agent once, at `$connect`, and
returns the identity as its `context`; API Gateway then hands that context to every later
event of the connection as `requestContext.authorizer` (with `principalId` added). So an
action needs no read to know who sent it.

API Gateway accepts only flat string, number and boolean values in the context, so the
identity is a few strings: `role`, `userId`, `clientIds` (comma-separated: client ids are
`[A-Za-z0-9_-]` by construction), `name` and, for agents, `staffRole`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from parley.auth.roles import StaffRole
from parley.chat.models import Identity, Role
from parley.errors import Unauthorized

CLIENT_SEPARATOR = ","


def to_context(identity: Identity) -> dict[str, str]:
    if any(CLIENT_SEPARATOR in cid or not cid for cid in identity.client_ids):
        raise ValueError(f"client ids must be non-empty and free of {CLIENT_SEPARATOR!r}: {identity.client_ids}")
    context = {"role": identity.role.value, "userId": identity.user_id,
               "clientIds": CLIENT_SEPARATOR.join(identity.client_ids), "name": identity.name}
    if identity.staff_role is not None:
        context["staffRole"] = identity.staff_role.value
    return context


def from_context(authorizer: Mapping[str, Any] | None) -> Identity:
    """The identity in `requestContext.authorizer`; a connection without one (no authorizer in
    front of the API, or a malformed context) is refused rather than trusted."""
    if not authorizer or "role" not in authorizer or "userId" not in authorizer:
        raise Unauthorized("the connection carries no identity; reconnect")
    try:
        role = Role(str(authorizer["role"]))
        client_ids = tuple(c for c in str(authorizer.get("clientIds", "")).split(CLIENT_SEPARATOR) if c)
        staff_role = authorizer.get("staffRole")
        identity = Identity(role=role, user_id=str(authorizer["userId"]), client_ids=client_ids,
                            name=str(authorizer.get("name", "")),
                            staff_role=StaffRole(str(staff_role)) if staff_role else None)
    except (ValueError, ValidationError) as exc:
        raise Unauthorized("the connection's identity is not valid; reconnect") from exc
    if role is Role.SYSTEM or not identity.user_id or not client_ids:
        raise Unauthorized("the connection's identity is not valid; reconnect")
    return identity
