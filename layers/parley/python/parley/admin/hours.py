"""The admin's view of a client: the stored client plus whether it is open now (for the console).

``availability`` is ``parley.hours.client_hours.client_availability`` at the service clock:
``open`` (chats routed to agents now, after-hours coverage included, PR-2), ``within_hours``
(inside the opening hours, holidays applied) and ``next_change`` (UTC, null if none ahead).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.chat.models import Client
from parley.hours.client_hours import client_availability


def client_view(client: Client, at: datetime) -> dict[str, Any]:
    """The client as stored (snake_case, hours included) with its availability at ``at``."""
    return {**client.model_dump(mode="json"),
            "availability": client_availability(client, at).model_dump(mode="json")}
