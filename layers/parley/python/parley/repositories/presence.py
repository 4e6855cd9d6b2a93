"""Is an agent of a client online? Read from routing's records (parley/repositories/routing.py)
in a bounded number of requests, whatever the number of agents:

1. an available agent in one of the client's routing teams: one Query with Limit 1 per team
   (gsi1 AVAIL#{team}) — the usual answer;
2. otherwise an agent online at their cap (not in AVAIL#): the client's agent connections
   (connections table AGENTS#{client}, Limit 25) and those agents' AGENT#/ROUTING items in one
   BatchGetItem; any with status online.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from parley.chat.models import Client
from parley.repositories.dynamo import from_item, to_item, values
from parley.routing.choice import AgentStatus, routing_teams

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

CONNECTED_AGENTS_READ = 25


class RoutingPresence:
    def __init__(self, client: DynamoDBClient, data_table: str, connections_table: str) -> None:
        self._db = client
        self._data = data_table
        self._conns = connections_table

    def agent_online(self, client: Client) -> bool:
        for team in routing_teams(client.team_ids, [client.client_id]):
            page = self._db.query(TableName=self._data, IndexName="gsi1", KeyConditionExpression="gsi1pk = :pk",
                                  ExpressionAttributeValues=values({":pk": f"AVAIL#{team}"}), Limit=1)
            if page.get("Items"):
                return True
        return self._online_at_cap(client.client_id)

    def _online_at_cap(self, client_id: str) -> bool:
        page = self._db.query(TableName=self._conns, KeyConditionExpression="pk = :pk",
                              ExpressionAttributeValues=values({":pk": f"AGENTS#{client_id}"}),
                              Limit=CONNECTED_AGENTS_READ)
        agent_ids = sorted({str(from_item(i).get("agent_id", "")) for i in page.get("Items", [])} - {""})
        if not agent_ids:
            return False
        keys = [to_item({"pk": f"AGENT#{a}", "sk": "ROUTING"}) for a in agent_ids]
        found = self._db.batch_get_item(RequestItems={self._data: {"Keys": keys}})
        states = [from_item(i) for i in found.get("Responses", {}).get(self._data, [])]
        return any(s.get("status") == AgentStatus.ONLINE.value for s in states)
