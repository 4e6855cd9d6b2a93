"""Adapters of the admin ports: the Cognito user pool, the email outbox, the @connections API."""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Iterable

from botocore.exceptions import ClientError

from parley import aws
from parley.admin.ports import InvitedUser
from parley.auth.roles import GROUP_OF_ROLE, StaffRole
from parley.composition.email import email_outbox
from parley.errors import Conflict
from parley.gateways.connections import ApiGatewayConnections
from parley.repositories.chat import ChatRepository

TEMPORARY_PASSWORD_DAYS = 3  # the pool's temp_password_validity (infra/constructs/auth.py)


class EmailTaken(Conflict):
    code = "email_taken"


def temporary_password() -> str:
    """20 random characters with every class the pool's password policy requires."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(16))
    return core + secrets.choice(string.ascii_uppercase) + secrets.choice(string.ascii_lowercase) + \
        secrets.choice(string.digits) + secrets.choice("!#%+-=?@^_")


class CognitoStaffDirectory:
    def __init__(self, user_pool_id: str) -> None:
        self._pool = user_pool_id

    def invite(self, email: str, name: str, role: StaffRole) -> InvitedUser:
        idp = aws.cognito()
        # The email is a sign-in alias, so it must be unique; Cognito checks aliases only when a
        # user confirms, so look first (ListUsers on an attribute, not a scan of our data).
        if idp.list_users(UserPoolId=self._pool, Filter=f'email = "{email}"', Limit=1).get("Users"):
            raise EmailTaken(f"email: an account with {email} exists")
        username = str(uuid.uuid4())  # opaque: the email stays an attribute, never the username
        password = temporary_password()
        created = idp.admin_create_user(
            UserPoolId=self._pool, Username=username, TemporaryPassword=password, MessageAction="SUPPRESS",
            # Verified: the temporary password goes to this address and nowhere else, so signing
            # in proves the mailbox.
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"},
                            {"Name": "name", "Value": name}])
        idp.admin_add_user_to_group(UserPoolId=self._pool, Username=username, GroupName=GROUP_OF_ROLE[role].value)
        sub = next(a["Value"] for a in created["User"].get("Attributes", []) if a["Name"] == "sub")
        return InvitedUser(sub=sub, username=username, temporary_password=password)

    def _username(self, username_or_sub: str) -> str:
        """Agent items written before `username` was kept carry only the `sub`: look it up."""
        found = aws.cognito().list_users(UserPoolId=self._pool, Filter=f'sub = "{username_or_sub}"', Limit=1)
        users = found.get("Users") or []
        return users[0]["Username"] if users else username_or_sub

    def set_role(self, username: str, role: StaffRole) -> None:
        idp = aws.cognito()
        username = self._username(username)
        idp.admin_add_user_to_group(UserPoolId=self._pool, Username=username, GroupName=GROUP_OF_ROLE[role].value)
        for other in (StaffRole.AGENT, StaffRole.SUPERVISOR):
            if other is not role:
                idp.admin_remove_user_from_group(UserPoolId=self._pool, Username=username,
                                                 GroupName=GROUP_OF_ROLE[other].value)

    def remove(self, username: str) -> None:
        aws.cognito().admin_delete_user(UserPoolId=self._pool, Username=username)

    def set_enabled(self, username: str, enabled: bool) -> None:
        idp = aws.cognito()
        username = self._username(username)
        try:
            if enabled:
                idp.admin_enable_user(UserPoolId=self._pool, Username=username)
                return
            idp.admin_disable_user(UserPoolId=self._pool, Username=username)
            idp.admin_user_global_sign_out(UserPoolId=self._pool, Username=username)  # refresh tokens die
        except ClientError as exc:
            # An agent item without a user (seeded by hand) is still disabled in the data table.
            if exc.response["Error"]["Code"] != "UserNotFoundException":
                raise


class OutboxInvitationMailer:
    """The invitation goes through the email outbox (queued, retried; SES on AWS, SMTP locally)."""

    def __init__(self, login_url: str) -> None:
        self._login_url = login_url

    def send_invitation(self, to: str, name: str, user: InvitedUser) -> None:
        email_outbox().enqueue(to=[to], template="agent.invitation", key=f"invitation:{user.sub}", data={
            "name": name, "login_url": self._login_url, "username": to,
            "temporary_password": user.temporary_password, "expires_in_days": str(TEMPORARY_PASSWORD_DAYS)})


class LiveAgentConnections:
    def __init__(self, chat: ChatRepository, gateway: ApiGatewayConnections) -> None:
        self._chat = chat
        self._gateway = gateway

    def connections_of_agent(self, agent_id: str) -> list[str]:
        return self._chat.connections_of_agent(agent_id)

    def visitor_connections_of_client(self, client_id: str) -> list[str]:
        return self._chat.visitor_connections_for_client(client_id)

    def close(self, connection_ids: Iterable[str]) -> int:
        return self._gateway.close(connection_ids)
