"""Lambda throttling and a passing SNS error at the end: survived, never a failed failover."""

from __future__ import annotations

from typing import Any

import pytest
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment

pytestmark = pytest.mark.workflow

SUCCESS_PATH = [
    StateName.VALIDATE_INPUT,
    StateName.ACQUIRE_LOCK,
    StateName.CHECK_REPLICATION,
    StateName.CHOOSE_RECOVERY_POINT,
    StateName.LAUNCH_RECOVERY,
    StateName.POLL_JOB,
    StateName.FIND_TARGETS,
    StateName.HEALTH_CHECK,
    StateName.UPDATE_DNS,
    StateName.REPORT_SUCCESS,
]


def task_errors(events: list[dict[str, Any]]) -> list[str]:
    """The error of every failed task attempt, in order."""
    return [
        event["lambdaFunctionFailedEventDetails"]["error"]
        for event in events
        if event["type"] == "LambdaFunctionFailed"
    ]


def throttled(events: list[dict[str, Any]]) -> int:
    return task_errors(events).count("Lambda.TooManyRequestsException")


def test_a_throttle_on_every_task_is_survived(env: LocalFailoverEnvironment) -> None:
    # Given Lambda throttles the first invocation of every task's function
    for state in SUCCESS_PATH:
        env.aws.runtime.throttle(state, count=1)
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then every throttle reached the workflow and was retried: the failover succeeded, once
    assert throttled(result.events) == len(SUCCESS_PATH)
    assert result.status == "SUCCEEDED", result.cause
    assert env.emulator.account.launches_accepted == 1
    assert env.site.record_values() == [result.output["recoveredAddress"]] != [PRIMARY_ADDRESS]  # type: ignore[index]
    # And on-call got exactly one final message, the success
    finals = [m for m in env.site.notifications() if m["subject"].endswith(("succeeded", "failed"))]
    assert [m["subject"] for m in finals] == ["[DR Autopilot] recovery succeeded"]


def test_a_throttled_failure_report_still_reports(env: LocalFailoverEnvironment) -> None:
    # Given replication lags (the run will fail) and Lambda throttles the failure report once
    env.reset_site("lagging")
    env.aws.runtime.throttle(StateName.REPORT_FAILURE, count=1)
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then it fails with its own reason, after the report was retried and sent once
    assert result.status == "FAILED" and result.error == "ReplicationNotReady"
    assert throttled(result.events) == 1
    finals = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    assert len(finals) == 1 and "ReplicationNotReady" in finals[0]["message"]


def test_a_passing_sns_error_on_the_final_summary_leaves_the_run_succeeded(env: LocalFailoverEnvironment) -> None:
    # Given SNS refuses the next publish once DNS has been switched (the summary's publish)
    env.aws.fail_calls_after(StateName.UPDATE_DNS, "sns", "Publish", "InternalError", count=1)
    try:
        # When on-call starts a failover
        result = env.executions.run({"requestedBy": "alice"})
    finally:
        env.aws.clear_faults("sns", "Publish")
    # Then the failover is SUCCEEDED, DNS is on the recovered webserver
    assert result.status == "SUCCEEDED", result.cause
    assert env.site.record_values() == [result.output["recoveredAddress"]]  # type: ignore[index]
    # And ReportSuccess was retried, and exactly one final message says it succeeded
    assert result.entered_states.count(StateName.REPORT_SUCCESS) == 1
    assert task_errors(result.events) == ["NotificationFailed"]
    finals = [m for m in env.site.notifications() if m["subject"].endswith(("succeeded", "failed"))]
    assert [m["subject"] for m in finals] == ["[DR Autopilot] recovery succeeded"]
