"""Composition root of identity: signup with email verification, and the rate limiter that
guards signup and sign-in (its counters in the data table)."""

from __future__ import annotations

from parley import aws
from parley.auth.login import LoginService
from parley.auth.signup import SignupService
from parley.clock import get_clock
from parley.composition.email import email_outbox
from parley.ratelimit import RateLimiter
from parley.repositories.mfa_setups import MfaSetupRepository
from parley.repositories.ratelimits import DynamoCounterStore
from parley.repositories.signups import PendingSignupRepository
from parley.settings import get_settings


def rate_limiter() -> RateLimiter:
    return RateLimiter(DynamoCounterStore(aws.dynamodb(), get_settings().data_table))


def signup_service() -> SignupService:
    from parley.composition import billing
    from parley.gateways.users import CognitoUsers

    return SignupService(CognitoUsers(), PendingSignupRepository(aws.dynamodb(), get_settings().data_table),
                         billing.lifecycle(), email_outbox(), rate_limiter(), get_clock())


def login_service() -> LoginService:
    from parley.gateways.cognito_auth import CognitoIdentityProvider

    return LoginService(CognitoIdentityProvider(), MfaSetupRepository(aws.dynamodb(), get_settings().data_table),
                        rate_limiter(), get_clock())
