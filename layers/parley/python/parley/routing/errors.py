"""Routing's typed errors (stable codes, documented in docs/protocol.md)."""

from __future__ import annotations

from parley.errors import Conflict, InvalidRequest


class NotServingClient(InvalidRequest):
    """A transfer to an agent or team that does not serve the conversation's client."""

    code = "not_serving_client"


class AgentUnavailable(Conflict):
    """A transfer to an agent who is not online or has no free slot."""

    code = "agent_unavailable"
