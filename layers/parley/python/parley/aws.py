"""Lazily built, cached boto3 clients (thread-safe low-level clients, never at import time).

Endpoints come from the standard AWS_ENDPOINT_URL_* variables, which is how the local stack
points the very same code at moto.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10)


@lru_cache(maxsize=1)
def dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=_CONFIG)


@lru_cache(maxsize=1)
def cognito() -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp", config=_CONFIG)


@lru_cache(maxsize=1)
def stepfunctions() -> SFNClient:
    return boto3.client("stepfunctions", config=_CONFIG)


@lru_cache(maxsize=1)
def sqs() -> SQSClient:
    return boto3.client("sqs", config=_CONFIG)


@lru_cache(maxsize=1)
def s3() -> S3Client:
    # SigV4 for presigned URLs (every region accepts it; some accept nothing else).
    return boto3.client("s3", config=_CONFIG.merge(Config(signature_version="s3v4")))


@lru_cache(maxsize=8)
def connections_api(endpoint: str) -> ApiGatewayManagementApiClient:
    # One attempt per call: a 410 is an answer, and the relay's own short retry budget
    # (parley.gateways.connections) keeps a slow relay from holding the sender's ack.
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=2, read_timeout=5),
    )


def reset_clients() -> None:
    """For tests that change the environment between runs."""
    dynamodb.cache_clear()
    cognito.cache_clear()
    stepfunctions.cache_clear()
    sqs.cache_clear()
    s3.cache_clear()
    connections_api.cache_clear()
