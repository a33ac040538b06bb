"""cdk-nag AwsSolutions: no open finding, and every acknowledgement gives its reason."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path
from typing import Any

import pytest

from local.environment import SYNTH_CACHE_VARIABLE, SynthError, base_context, synthesize

# The CDK is imported inside the tests: importing it starts a Node.js process, which a test
# worker that only reads cached templates never needs.

CONTEXT = {**base_context(), "aws:cdk:bundling-stacks": []}


def nag_report() -> list[dict[str, str]]:
    """The rows of the AwsSolutions report that cdk-nag writes when the app is synthesized."""
    from infrastructure.app import build_app

    with tempfile.TemporaryDirectory() as outdir:
        build_app(context=CONTEXT, outdir=outdir).synth()
        (report,) = Path(outdir).glob("AwsSolutions-*NagReport.csv")
        return list(csv.DictReader(report.open()))


def test_no_open_findings_and_every_acknowledgement_has_a_specific_reason() -> None:
    # Given the app with cdk.json's example configuration
    # When it is synthesized with the AwsSolutions checks
    rows = nag_report()
    # Then cdk-nag ran and left no finding open
    assert rows, "cdk-nag did not run"
    assert [r for r in rows if r["Compliance"] == "Non-Compliant"] == []
    # And every acknowledged finding gives a reason of some length that names what it is about
    suppressed = [r for r in rows if r["Compliance"] == "Suppressed"]
    assert suppressed
    for row in suppressed:
        reason = row["Exception Reason"]
        assert len(reason) >= 60, row
        assert any(
            word in reason
            for word in (
                "xray",
                "ec2:DescribeInstances",
                "route53:GetChange",
                "AWSLambdaBasicExecutionRole",
                "versions and aliases",
                "X-Ray",
                "dead-letter queue",
                "kms:GenerateDataKey*",
                "states:GetExecutionHistory",
                "states:DescribeExecution",
            )
        ), row


def test_a_new_unacknowledged_finding_fails_synth(monkeypatch: pytest.MonkeyPatch) -> None:
    from aws_cdk import aws_sns as sns

    import infrastructure.app as app_module
    from infrastructure.app import STACK_NAME
    from infrastructure.stack import DrAutopilotStack

    # Given the stack gains an SNS topic without encryption or TLS, a finding nobody acknowledged
    # (the check above must be able to fail)
    class WithCarelessTopic(DrAutopilotStack):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            sns.Topic(self, "CarelessTopic")

    monkeypatch.setattr(app_module, "DrAutopilotStack", WithCarelessTopic)
    monkeypatch.delenv(SYNTH_CACHE_VARIABLE, raising=False)  # the cache cannot see a patched class
    # When the app is synthesized
    # Then synth stops on the AwsSolutions-SNS finding, as `cdk synth` and `cdk deploy` would
    with pytest.raises(SynthError, match="AwsSolutions-SNS"):
        synthesize(CONTEXT)
    # And the stack keeps the name the deployment and the tools look it up by
    assert STACK_NAME == "DrAutopilot"
