"""Email on AWS: an Amazon SES identity and configuration set, the SMTP credentials secret, and
the IAM user SES's SMTP interface authenticates as — the same SMTP code path the local stack
drives against aiosmtpd (parley/email/smtp.py).

* `EmailIdentity` for the sending domain (CDK context `parley:emailDomain`; DKIM Easy DKIM,
  the DNS records are in the identity's outputs) and a `ConfigurationSet` that suppresses
  bounced and complained addresses and keeps reputation metrics. Every message names the
  configuration set in the X-SES-CONFIGURATION-SET header.
* `SmtpSender`, an IAM user with no console access and one permission: ses:SendRawEmail (what
  SMTP sends are) from this identity, through this configuration set, with a From of the
  configured address. SES SMTP credentials are that user's access key converted to an SMTP
  password; CloudFormation cannot compute the conversion, so after deploying the operator
  creates the key and puts the converted credentials in the secret (docs/email.md):

      aws secretsmanager put-secret-value --secret-id <SmtpSecretName> \\
          --secret-string '{"username": "<access key id>", "password": "<SMTP password>"}'

* The secret (placeholders until then: a send fails to authenticate, the outbox keeps retrying
  and nothing is lost). Only `sends_email` functions may read it.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.constructs.nag import acknowledge

DEFAULT_DOMAIN = "parley.example.com"
SMTP_PORT = 587  # STARTTLS


class Email(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, domain: str, from_address: str) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.from_address = from_address
        self.smtp_host = f"email-smtp.{stack.region}.amazonaws.com"
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            reputation_metrics=True,
            sending_enabled=True,
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        self.identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.domain(domain),
            configuration_set=self.configuration_set,
        )
        self.smtp_user = iam.User(self, "SmtpSender")
        identity_arn = stack.format_arn(service="ses", resource="identity", resource_name=domain)
        configuration_set_arn = stack.format_arn(
            service="ses", resource="configuration-set", resource_name=self.configuration_set.configuration_set_name
        )
        iam.ManagedPolicy(
            self,
            "SmtpSendPolicy",
            description="Parley: send mail over SES SMTP from the one identity and configuration set",
            users=[self.smtp_user],
            statements=[
                iam.PolicyStatement(
                    actions=["ses:SendRawEmail"],
                    resources=[identity_arn, configuration_set_arn],
                    conditions={"StringEquals": {"ses:FromAddress": from_address}},
                )
            ],
        )
        self.secret = secretsmanager.Secret(
            self,
            "SmtpSecret",
            description="Parley email: SES SMTP credentials of the SmtpSender user, JSON {\"username\", "
            "\"password\"}; placeholders until the operator puts the real values",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"username": ""}),
                generate_string_key="password",
                password_length=32,
                exclude_punctuation=True,
            ),
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "SES SMTP credentials are derived from an IAM access key by the operator (SES's documented "
            "conversion), not generated here; rotating means a new key of the SmtpSender user converted and "
            "pasted, which a Secrets Manager rotation Lambda cannot do without holding IAM key-creation rights.",
        )
