"""Parley's CDK stacks."""
