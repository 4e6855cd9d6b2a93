"""Signup's users in the Cognito user pool (the SignupUsers port of parley.auth.signup).

The username is an opaque id (a UUID): the pool signs in with the email as an alias, and Cognito
refuses an email-shaped username in such a pool. The email is an attribute, unverified until the
signup's code is checked.
"""

from __future__ import annotations

import uuid

from botocore.exceptions import ClientError

from parley import aws
from parley.auth.roles import Group
from parley.auth.signup import ExistingUser
from parley.errors import InvalidRequest
from parley.settings import get_settings


class CognitoUsers:
    def __init__(self, user_pool_id: str | None = None) -> None:
        self._pool = user_pool_id or get_settings().cognito_user_pool_id

    def find(self, email: str) -> ExistingUser | None:
        idp = aws.cognito()
        if '"' in email or "\\" in email:
            raise InvalidRequest("email: not a valid address")  # it could not be quoted in the filter
        found = idp.list_users(UserPoolId=self._pool, Filter=f'email = "{email}"', Limit=1).get("Users") or []
        if not found:
            return None
        user = found[0]
        attributes = {a["Name"]: a.get("Value", "") for a in user.get("Attributes", [])}
        verified = attributes.get("email_verified") == "true"
        if not verified:
            # Only a user nobody gave a role counts as an abandoned signup (never an agent or a
            # client user created some other way without a verified flag).
            groups = idp.admin_list_groups_for_user(UserPoolId=self._pool, Username=user["Username"]).get("Groups")
            verified = bool(groups)
        return ExistingUser(username=user["Username"], verified=verified)

    def create(self, email: str, password: str) -> tuple[str, str]:
        idp = aws.cognito()
        username = str(uuid.uuid4())
        created = idp.admin_create_user(
            UserPoolId=self._pool, Username=username, MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "false"}])
        try:
            idp.admin_set_user_password(UserPoolId=self._pool, Username=username, Password=password, Permanent=True)
        except ClientError as exc:
            self.delete(username)  # nothing may outlive a refused password
            code = exc.response["Error"]["Code"]
            if code in ("InvalidPasswordException", "InvalidParameterException"):
                raise InvalidRequest(f"password: {exc.response['Error'].get('Message', 'not accepted')}") from exc
            raise
        except BaseException:
            self.delete(username)
            raise
        sub = next(a["Value"] for a in created["User"].get("Attributes", []) if a["Name"] == "sub")
        return username, sub

    def delete(self, username: str) -> None:
        try:
            aws.cognito().admin_delete_user(UserPoolId=self._pool, Username=username)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "UserNotFoundException":
                raise

    def confirm(self, username: str) -> None:
        idp = aws.cognito()
        idp.admin_update_user_attributes(UserPoolId=self._pool, Username=username,
                                         UserAttributes=[{"Name": "email_verified", "Value": "true"}])
        idp.admin_add_user_to_group(UserPoolId=self._pool, Username=username, GroupName=Group.CLIENTS.value)
