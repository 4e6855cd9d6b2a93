"""AWS list prices used by the cost model (bench/cost.py) — the one place to update them.

Region us-east-1, pay-as-you-go list prices, first pricing tier (the tiers below are where a
provider's first millions of chats fall), from the public pricing pages:

* API Gateway — https://aws.amazon.com/api-gateway/pricing/ : WebSocket APIs $1.00 per million
  messages (metered in 32 KB increments; every Parley frame is far smaller) and $0.25 per
  million connection minutes; HTTP APIs $1.00 per million requests (up to 512 KB each).
* Lambda — https://aws.amazon.com/lambda/pricing/ : $0.20 per million requests; duration on
  arm64 (what infra/constructs/function_factory.py deploys) $0.0000133334 per GB-second.
* DynamoDB on-demand — https://aws.amazon.com/dynamodb/pricing/on-demand/ : $0.625 per million
  write request units (1 KB each; transactional writes 2 units) and $0.125 per million read
  request units (4 KB each, eventually consistent reads half a unit, transactional reads 2),
  the prices since the 2024-11-01 reduction. DynamoDB Streams reads made by a Lambda trigger
  (the event source mapping of `usage_meter`) are free.
* Secrets Manager — https://aws.amazon.com/secrets-manager/pricing/ : $0.05 per 10,000 API calls.

Recorded on 2026-12-01 from those pages as known to this project (no live lookup from the
build machine); check them before quoting a figure to a customer.
"""

from __future__ import annotations

PRICES_DATE = "2026-12-01"
REGION = "us-east-1"

WEBSOCKET_MESSAGE = 1.00 / 1e6  # $ per message (each frame in either direction, per 32 KB)
WEBSOCKET_CONNECTION_MINUTE = 0.25 / 1e6
HTTP_API_REQUEST = 1.00 / 1e6
LAMBDA_REQUEST = 0.20 / 1e6
LAMBDA_ARM_GB_SECOND = 0.0000133334
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
DYNAMODB_STREAM_READ_BY_LAMBDA = 0.0
SECRETS_MANAGER_CALL = 0.05 / 10_000

# The floor of a relayed 1:1 message (issue 7): one message in, one out, one Lambda request,
# one write unit. The issue quotes "about $2.97 per million"; these four items at the prices
# above make $2.825 per million, which the model uses (the stricter of the two).
FLOOR_PER_MESSAGE = 2 * WEBSOCKET_MESSAGE + LAMBDA_REQUEST + DYNAMODB_WRITE_UNIT
ISSUE_FLOOR_PER_MESSAGE = 2.97 / 1e6
