"""The one place Powertools' Logger, Tracer and Metrics are built, shared by every handler."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="parley")
tracer = Tracer(service="parley")
metrics = Metrics(namespace="Parley", service="parley")
