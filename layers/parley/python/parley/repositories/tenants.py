"""Clients (tenants), their widget keys, and agents.

Keys (data table):  CLIENT#{id} / PROFILE · WIDGETKEY#{key} / WIDGETKEY · AGENT#{sub} / PROFILE ·
CLIENTUSER#{sub} / PROFILE (a client's dashboard user)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.chat.models import Agent, Client
from parley.repositories.dynamo import from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class TenantRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def _get(self, pk: str, sk: str) -> dict[str, object] | None:
        item = self._db.get_item(TableName=self._table, Key=to_item({"pk": pk, "sk": sk})).get("Item")
        return from_item(item) if item else None

    def client_by_widget_key(self, widget_key: str) -> Client | None:
        ref = self._get(f"WIDGETKEY#{widget_key}", "WIDGETKEY")
        return self.get_client(str(ref["client_id"])) if ref else None

    def get_client(self, client_id: str) -> Client | None:
        data = self._get(f"CLIENT#{client_id}", "PROFILE")
        return Client.model_validate(data) if data else None

    def put_client(self, client: Client) -> None:
        self._db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table,
                         "Item": to_item({"pk": f"CLIENT#{client.client_id}", "sk": "PROFILE",
                                          **client.model_dump(mode="json")})}},
                {"Put": {"TableName": self._table,
                         "Item": to_item({"pk": f"WIDGETKEY#{client.widget_key}", "sk": "WIDGETKEY",
                                          "client_id": client.client_id})}},
            ]
        )

    def client_of_user(self, user_sub: str) -> str | None:
        """The client a dashboard user (Cognito group "clients") belongs to."""
        data = self._get(f"CLIENTUSER#{user_sub}", "PROFILE")
        return str(data["client_id"]) if data else None

    def put_client_user(self, user_sub: str, client_id: str) -> None:
        self._db.put_item(TableName=self._table, Item=to_item({"pk": f"CLIENTUSER#{user_sub}", "sk": "PROFILE",
                                                                "client_id": client_id}))

    def get_agent(self, agent_id: str) -> Agent | None:
        data = self._get(f"AGENT#{agent_id}", "PROFILE")
        return Agent.model_validate(data) if data else None

    def put_agent(self, agent: Agent) -> None:
        self._db.put_item(
            TableName=self._table,
            Item=to_item({"pk": f"AGENT#{agent.agent_id}", "sk": "PROFILE", **agent.model_dump(mode="json")}),
        )
