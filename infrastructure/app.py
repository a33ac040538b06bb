"""Build the CDK app. Pure: no network, no credentials, no git — only cdk.json context."""

from __future__ import annotations

import os
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from infrastructure.config import load_config
from infrastructure.stack import DrAutopilotStack

STACK_NAME = "DrAutopilot"
FALLBACK_ACCOUNT = "123456789012"  # synth needs an explicit env; deploy uses your credentials' account
FALLBACK_REGION = "eu-west-1"


def build_app(context: dict[str, Any] | None = None, outdir: str | None = None) -> cdk.App:
    app = cdk.App(context=context, outdir=outdir)
    config = load_config(app.node)
    env = cdk.Environment(
        account=app.node.try_get_context("account") or os.environ.get("CDK_DEFAULT_ACCOUNT") or FALLBACK_ACCOUNT,
        region=app.node.try_get_context("region") or os.environ.get("CDK_DEFAULT_REGION") or FALLBACK_REGION,
    )
    DrAutopilotStack(
        app,
        STACK_NAME,
        config=config,
        env=env,
        description="DR Autopilot: automated failover with CloudEndure and Route 53",
    )
    # AWS Solutions checks on every synth: an unacknowledged finding is an error annotation, which
    # fails `cdk synth`/`deploy`; acknowledgements sit next to the resources they are about.
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return app
