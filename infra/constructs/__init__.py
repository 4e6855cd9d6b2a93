"""Parley's CDK constructs, one per concern; every Lambda function comes from `function_factory`."""
