"""cdk-nag AwsSolutions: no open finding, and every acknowledgement gives its reason."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from aws_cdk import aws_sns as sns

from infrastructure.app import STACK_NAME, build_app
from local.environment import SynthError, base_context, synthesize

CONTEXT = {**base_context(), "aws:cdk:bundling-stacks": []}


def nag_report() -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as outdir:
        build_app(context=CONTEXT, outdir=outdir).synth()
        (report,) = Path(outdir).glob("AwsSolutions-*NagReport.csv")
        return list(csv.DictReader(report.open()))


def test_no_open_findings_and_every_acknowledgement_has_a_specific_reason() -> None:
    rows = nag_report()
    assert rows, "cdk-nag did not run"
    assert [r for r in rows if r["Compliance"] == "Non-Compliant"] == []
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
            )
        ), row


def test_a_new_unacknowledged_finding_fails_synth() -> None:
    # The check above must be able to fail: an SNS topic without encryption or TLS is a finding
    import infrastructure.app as app_module

    original = app_module.DrAutopilotStack

    class WithCarelessTopic(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            sns.Topic(self, "CarelessTopic")

    app_module.DrAutopilotStack = WithCarelessTopic
    try:
        with pytest.raises(SynthError, match="AwsSolutions-SNS"):
            synthesize(CONTEXT)
    finally:
        app_module.DrAutopilotStack = original
    assert STACK_NAME == "DrAutopilot"
