"""Identity: the Cognito user pool for agents and clients, and the visitor-token signing secret."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, SecretValue
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.nag import acknowledge
from parley.auth.passwords import PASSWORD_POLICY
from parley.auth.roles import GROUP_DESCRIPTIONS

# One source for the group names: the checks read the same list (parley.auth.roles).
USER_GROUPS = {group.value: description for group, description in GROUP_DESCRIPTIONS.items()}


class Auth(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            # Accounts are created by the provider (agents) or by signup's own API (clients: rate-limited,
            # the email verified by our code), never by Cognito's public SignUp.
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            sign_in_case_sensitive=False,
            # The one password policy: the API and the signup form check the same (parley.auth.passwords).
            password_policy=cognito.PasswordPolicy(
                min_length=PASSWORD_POLICY.min_length,
                require_lowercase=PASSWORD_POLICY.require_lowercase,
                require_uppercase=PASSWORD_POLICY.require_uppercase,
                require_digits=PASSWORD_POLICY.require_digits,
                require_symbols=PASSWORD_POLICY.require_symbols,
                temp_password_validity=Duration.days(PASSWORD_POLICY.temporary_password_days),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # TOTP for every user who enrols (no SMS: no phone numbers, no SIM-swap path); the app
            # requires it of admins and supervisors (parley.auth, docs/security.md).
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            # Plus tier: threat protection (compromised credentials, adaptive authentication),
            # enforced. Its risk signal is best when auth_login forwards the browser's
            # UserContextData (the IP Cognito sees is otherwise the Lambda's).
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "Risk accepted: MFA is OPTIONAL in the pool, not REQUIRED: agents and client owners may "
            "sign in with a password alone (12+ characters, threat protection enforced, login attempts "
            "slowed per user and IP), while admins and supervisors must enrol TOTP, which the "
            "application enforces for those groups (a pool-wide REQUIRED cannot single out groups).",
        )

        # The console and dashboard post username/password to auth_login, which calls InitiateAuth
        # with USER_PASSWORD_AUTH. Confidential: every sign-in call needs a SECRET_HASH made with
        # the client secret, which only auth_login can read, so the public client id alone cannot
        # sign in around auth_login's rate limits and forced TOTP setup (docs/security.md). No
        # SRP: a browser could not sign in directly without the secret anyway.
        self.user_pool_client = self.user_pool.add_client(
            "AppClient",
            auth_flows=cognito.AuthFlow(user_password=True),
            generate_secret=True,
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )

        # The client secret, for the functions that sign users in (wiring: reads_cognito_client_secret).
        # Its value is CloudFormation's GetAtt of the client's ClientSecret, so it appears in neither
        # the template nor the repository, and no custom resource is needed to read it.
        client = self.user_pool_client.node.default_child
        assert isinstance(client, cognito.CfnUserPoolClient)
        self.client_secret = secretsmanager.Secret(
            self,
            "AppClientSecret",
            description="Parley: the Cognito app client's secret (SECRET_HASH of sign-in calls)",
            secret_string_value=SecretValue.resource_attribute(client.attr_client_secret),
        )
        acknowledge(
            self.client_secret,
            "AwsSolutions-SMG4",
            "Risk accepted: the value is Cognito's own app client secret, copied here at deploy time; "
            "Secrets Manager cannot rotate it (Cognito generates it). Rotate by replacing the app client "
            "(a new client id and secret, redeployed together), which also signs everyone out.",
        )

        self.groups = {
            name: cognito.UserPoolGroup(
                self,
                f"{name.capitalize()}Group",
                user_pool=self.user_pool,
                group_name=name,
                description=description,
            )
            for name, description in USER_GROUPS.items()
        }

        # HMAC key for the signed visitor tokens (docs/protocol.md). Generated by Secrets Manager at
        # deploy time so its value never appears in the template or the repository.
        self.visitor_token_secret = secretsmanager.Secret(
            self,
            "VisitorTokenSecret",
            description="HMAC key signing Parley visitor tokens",
            generate_secret_string=secretsmanager.SecretStringGenerator(password_length=64, exclude_punctuation=True),
        )
        acknowledge(
            self.visitor_token_secret,
            "AwsSolutions-SMG4",
            "Signing key of short-lived visitor tokens: rotating it invalidates every live visitor "
            "session unless verification accepts the previous key too, which the token format does "
            "not support yet (no key id). Rotate manually until key-versioned tokens exist.",
        )
