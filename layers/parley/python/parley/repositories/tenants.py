"""Clients (tenants), their widget keys, and agents.

Keys (data table):  CLIENT#{id} / PROFILE · WIDGETKEY#{key} / WIDGETKEY · AGENT#{sub} / PROFILE ·
TEAM#{id} / PROFILE · CLIENTUSER#{sub} / PROFILE (a client's dashboard user). Clients, agents and
teams are listed through the sparse gsi1 partitions DIRECTORY#CLIENTS / #AGENTS / #TEAMS (no Scan).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from parley.chat.models import Agent, Client, Team
from parley.repositories.dynamo import from_item, to_item, values

DEFAULT_TEAM_NAME = "Default team"  # the name of a team created on its first client (the default team)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class TenantRepository:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._db = client
        self._table = table

    def _get(self, pk: str, sk: str) -> dict[str, object] | None:
        item = self._db.get_item(TableName=self._table, Key=to_item({"pk": pk, "sk": sk})).get("Item")
        return from_item(item) if item else None

    def _directory(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every item of one directory partition of gsi1, page by page."""
        kwargs: dict[str, Any] = {"TableName": self._table, "IndexName": "gsi1",
                                  "KeyConditionExpression": "gsi1pk = :pk",
                                  "ExpressionAttributeValues": values({":pk": f"DIRECTORY#{kind}"})}
        while True:
            page = self._db.query(**kwargs)
            yield from (from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _update_op(self, pk: str, fields: dict[str, Any]) -> dict[str, Any]:
        """A SET of just these attributes on an existing PROFILE item (others' attributes untouched)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        vals = values({f":v{i}": value for i, value in enumerate(fields.values())})
        return {"TableName": self._table, "Key": to_item({"pk": pk, "sk": "PROFILE"}),
                "UpdateExpression": "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": vals}

    def apply_updates(self, updates: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Field updates on CLIENT#/AGENT#/TEAM# profiles (pk, fields), in one transaction per 100."""
        ops = [self._update_op(pk, fields) for pk, fields in updates if fields]
        if len(ops) == 1:
            self._db.update_item(**ops[0])
            return
        for start in range(0, len(ops), 100):
            items: list[Any] = [{"Update": op} for op in ops[start:start + 100]]
            self._db.transact_write_items(TransactItems=items)

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
                                          **client.model_dump(mode="json"),
                                          "gsi1pk": "DIRECTORY#CLIENTS", "gsi1sk": client.client_id})}},
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
            Item=to_item({"pk": f"AGENT#{agent.agent_id}", "sk": "PROFILE", **agent.model_dump(mode="json"),
                          "gsi1pk": "DIRECTORY#AGENTS", "gsi1sk": agent.agent_id}),
        )

    def delete_agent(self, agent_id: str) -> None:
        self._db.delete_item(TableName=self._table, Key=to_item({"pk": f"AGENT#{agent_id}", "sk": "PROFILE"}))

    # --- admin: directories, teams and settings ------------------------------------------
    def list_clients(self) -> list[Client]:
        return [Client.model_validate(d) for d in self._directory("CLIENTS")]

    def list_agents(self) -> list[Agent]:
        return [Agent.model_validate(d) for d in self._directory("AGENTS")]

    def list_teams(self) -> list[Team]:
        return [Team.model_validate(d) for d in self._directory("TEAMS")]

    def get_team(self, team_id: str) -> Team | None:
        data = self._get(f"TEAM#{team_id}", "PROFILE")
        return Team.model_validate(data) if data else None

    def get_teams(self, team_ids: Sequence[str]) -> list[Team]:
        """The teams that exist among these ids (BatchGetItem, 100 keys a request)."""
        ids = list(dict.fromkeys(team_ids))
        found: list[Team] = []
        for start in range(0, len(ids), 100):
            keys = [to_item({"pk": f"TEAM#{t}", "sk": "PROFILE"}) for t in ids[start:start + 100]]
            request: dict[str, Any] = {self._table: {"Keys": keys}}
            while request:
                page = self._db.batch_get_item(RequestItems=request)
                found += [Team.model_validate(from_item(i)) for i in page.get("Responses", {}).get(self._table, [])]
                request = dict(page.get("UnprocessedKeys") or {})
        return sorted(found, key=lambda t: ids.index(t.team_id))

    def put_team(self, team: Team) -> None:
        """A new team (refused if the id exists)."""
        self._db.put_item(TableName=self._table, ConditionExpression="attribute_not_exists(pk)",
                          Item=to_item({"pk": f"TEAM#{team.team_id}", "sk": "PROFILE", **team.model_dump(mode="json"),
                                        "gsi1pk": "DIRECTORY#TEAMS", "gsi1sk": team.team_id}))

    def add_client_to_team(self, team_id: str, client_id: str, team_name: str = DEFAULT_TEAM_NAME) -> None:
        """Append a client to a team, creating the team if it does not exist yet (the default team
        of self-service signups: one UpdateItem, whatever the number of agents in it)."""
        self._db.update_item(
            TableName=self._table, Key=to_item({"pk": f"TEAM#{team_id}", "sk": "PROFILE"}),
            UpdateExpression=("SET client_ids = list_append(if_not_exists(client_ids, :empty), :client), "
                              "team_id = :id, #name = if_not_exists(#name, :name), "
                              "agent_ids = if_not_exists(agent_ids, :empty), gsi1pk = :dir, gsi1sk = :id"),
            ExpressionAttributeNames={"#name": "name"},
            ExpressionAttributeValues=values({":empty": [], ":client": [client_id], ":id": team_id,
                                              ":name": team_name, ":dir": "DIRECTORY#TEAMS"}),
        )

    def served_client_ids(self, agent: Agent) -> list[str]:
        """The clients an agent serves: those assigned to them directly plus those of their teams
        (one BatchGetItem for the teams)."""
        served = list(agent.client_ids)
        for team in self.get_teams(agent.team_ids) if agent.team_ids else []:
            served += [c for c in team.client_ids if c not in served]
        return served
