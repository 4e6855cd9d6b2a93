"""Creating dashboard users in the Cognito user pool (signup)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from parley import aws
from parley.auth.roles import Group
from parley.errors import Conflict, InvalidRequest
from parley.settings import get_settings


class EmailTaken(Conflict):
    code = "email_taken"


class CognitoUsers:
    def create_client_user(self, email: str, password: str) -> str:
        """A confirmed user in the "clients" group; returns its `sub`."""
        pool = get_settings().cognito_user_pool_id
        idp = aws.cognito()
        try:
            created = idp.admin_create_user(
                UserPoolId=pool, Username=email, MessageAction="SUPPRESS",
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
            idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code == "UsernameExistsException":
                raise EmailTaken("an account with this email exists; log in instead") from exc
            if code in ("InvalidPasswordException", "InvalidParameterException"):
                raise InvalidRequest(f"password: {exc.response['Error'].get('Message', 'not accepted')}") from exc
            raise
        idp.admin_add_user_to_group(UserPoolId=pool, Username=email, GroupName=Group.CLIENTS.value)
        return next(a["Value"] for a in created["User"].get("Attributes", []) if a["Name"] == "sub")
