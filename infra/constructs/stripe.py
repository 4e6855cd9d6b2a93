"""The Stripe credentials: one Secrets Manager secret, read only by the functions whose
FunctionSpec says `uses_stripe`.

The secret is a JSON object `{"api_key": ..., "webhook_secret": ...}` (parley.services reads
both keys). Deploying creates it with placeholders, never a real key: `api_key` is empty, so
every Stripe call fails fast ("a Stripe API key is required"), and `webhook_secret` is random,
so no webhook can be verified and every event is refused. After the first deploy the operator
puts the real values (the stack output StripeSecretName names the secret):

    aws secretsmanager put-secret-value --secret-id <StripeSecretName> \\
        --secret-string '{"api_key": "rk_live_...", "webhook_secret": "whsec_..."}'

`api_key` is a restricted (rk_) or secret (sk_) key from the Stripe dashboard; `webhook_secret`
is the signing secret of the endpoint <HttpApiUrl>/api/stripe/webhook registered there. No
redeploy is needed, but the functions cache what they read (parley.services: the secret for five
minutes, the Stripe client for the life of a warm instance), so when rolling a key in Stripe give
the old one an expiry of an hour or more.

Later deploys leave the pasted values alone as long as the generator below is unchanged:
editing `generate_secret_string` makes CloudFormation generate a new value, overwriting them.
"""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra.constructs.nag import acknowledge

# What the deploy writes; the operator replaces both values (see the module docstring).
PLACEHOLDER_TEMPLATE = {"api_key": ""}
GENERATED_KEY = "webhook_secret"


class Stripe(Construct):
    """The Stripe secret (placeholder until the operator puts the real keys)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="Parley billing: Stripe API key and webhook signing secret, JSON "
            '{"api_key", "webhook_secret"}; placeholders until the operator puts the real values',
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(PLACEHOLDER_TEMPLATE),
                generate_string_key=GENERATED_KEY,
                password_length=64,
                exclude_punctuation=True,
            ),
            # Holds values pasted by hand (a live Stripe key is shown once in the dashboard):
            # a stack deletion must not take them along.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Stripe credentials are issued by Stripe, not generated here: the operator rolls the API "
            "key and the webhook signing secret in the Stripe dashboard and pastes the new values into "
            "this secret, so a Secrets Manager rotation Lambda has nothing it could rotate.",
        )
