"""Continuous readiness in the template: the schedule, its role, the alarms and the dashboard."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import ValidateInputEvent
from dr_autopilot.observability import ReadinessMetric
from dr_autopilot.states import StateName

from local.environment import base_context, merge, synthesize
from tests.infrastructure.test_stack import definition, of_type, policy_statements


def schedule(resources: dict[str, Any]) -> dict[str, Any]:
    (found,) = of_type(resources, "AWS::Scheduler::Schedule").values()
    return dict(found["Properties"])


def readiness_alarms(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["Statistic"]: a["Properties"]
        for a in of_type(resources, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == ReadinessMetric.FAILOVER_READY
    }


def test_the_schedule_starts_a_readiness_dry_run_of_the_state_machine_every_rate(resources: dict[str, Any]) -> None:
    # Given the synthesized schedule (cdk.json: readiness every 60 minutes)
    props = schedule(resources)
    (machine_id,) = of_type(resources, "AWS::StepFunctions::StateMachine")
    # Then it runs every hour, on time, and starts this state machine
    assert props["ScheduleExpression"] == "rate(1 hour)" and props["State"] == "ENABLED"
    assert props["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert props["Target"]["Arn"] == {"Ref": machine_id}
    # And its input is one ValidateInput accepts as a readiness dry run of a recovery
    request = validate_input(
        ValidateInputEvent.model_validate(
            {
                "input": json.loads(props["Target"]["Input"]),
                "execution": {"id": "arn:x", "name": "x", "startTime": datetime.now(UTC).isoformat()},
            }
        )
    )
    assert request.readiness and request.dry_run and not request.force and request.mode.value == "recovery"


def test_the_schedule_may_only_start_this_state_machine(resources: dict[str, Any]) -> None:
    # Given the role the schedule's target uses
    role_ref = schedule(resources)["Target"]["RoleArn"]["Fn::GetAtt"][0]
    role = resources[role_ref]["Properties"]
    (machine_id,) = of_type(resources, "AWS::StepFunctions::StateMachine")
    # Then only EventBridge Scheduler of this account (its default group) may assume it
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert set(trust["Condition"]["StringEquals"]) == {"aws:SourceAccount", "aws:SourceArn"}
    assert "schedule-group/default" in json.dumps(trust["Condition"]["StringEquals"]["aws:SourceArn"])
    # And it may do one thing: start this state machine
    assert "ManagedPolicyArns" not in role
    assert policy_statements(resources, role_ref) == [
        {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    ]


def test_a_refused_recovery_and_a_missing_verdict_each_alarm_on_call(resources: dict[str, Any]) -> None:
    # Given the alarms on FailoverReady
    alarms = readiness_alarms(resources)
    (topic_id,) = of_type(resources, "AWS::SNS::Topic")
    # Then a verdict of 0 within a rate raises FailoverNotReady, and no verdict keeps its state
    not_ready = alarms["Minimum"]
    assert (not_ready["ComparisonOperator"], not_ready["Threshold"]) == ("LessThanThreshold", 1)
    assert not_ready["Period"] == 3600 and not_ready["TreatMissingData"] == "ignore"
    # And no verdict for two rates (schedule stopped, runs failing to start) raises the other
    missing = alarms["SampleCount"]
    assert (missing["ComparisonOperator"], missing["Threshold"]) == ("LessThanThreshold", 1)
    assert missing["Period"] == 7200 and missing["TreatMissingData"] == "breaching"
    # And both tell on-call, going off and coming back
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic_id}] and alarm["OKActions"] == [{"Ref": topic_id}]
        assert alarm["Dimensions"] == [{"Name": "service", "Value": "dr-autopilot"}]


def test_the_dashboard_shows_readiness(resources: dict[str, Any]) -> None:
    # Given the dashboard
    (dashboard,) = of_type(resources, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    # Then it graphs every readiness metric and shows both readiness alarms
    for metric in ReadinessMetric:
        assert f'\\"{metric.value}\\"' in body, metric
    for alarm_id in of_type(resources, "AWS::CloudWatch::Alarm"):
        if alarm_id.startswith("Readiness"):
            assert alarm_id in body, alarm_id


def test_a_readiness_verdict_that_refuses_a_recovery_ends_as_a_verdict_not_a_failure(
    resources: dict[str, Any],
) -> None:
    # Given the definition after ReportFailure
    states = definition(resources)["States"]
    choice = states[states[StateName.REPORT_FAILURE]["Next"]]
    # Then a NOT_READY summary ends in SiteNotReady (succeeded), anything else in FailoverFailed
    assert choice["Choices"] == [
        {"Variable": "$.summary.outcome", "StringEquals": "NOT_READY", "Next": StateName.SITE_NOT_READY}
    ]
    assert choice["Default"] == StateName.FAILOVER_FAILED
    assert states[StateName.SITE_NOT_READY]["Type"] == "Succeed"


def test_readiness_switched_off_leaves_no_schedule_and_no_readiness_alarm() -> None:
    # Given readiness switched off, and another rate
    off = synthesize(
        merge(base_context(), {"drAutopilot": {"readiness": {"enabled": False}}, "aws:cdk:bundling-stacks": []})
    )
    # When synthesized, Then there is no schedule, no readiness alarm and no readiness widget
    assert of_type(off["Resources"], "AWS::Scheduler::Schedule") == {}
    assert readiness_alarms(off["Resources"]) == {}
    (dashboard,) = of_type(off["Resources"], "AWS::CloudWatch::Dashboard").values()
    assert ReadinessMetric.FAILOVER_READY.value not in json.dumps(dashboard["Properties"]["DashboardBody"])
