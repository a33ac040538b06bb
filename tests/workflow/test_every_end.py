"""Every end of an execution, including the ones the workflow cannot report itself, yields exactly
one final message that says what was and was not changed (Step Functions' status-change event
reaches ReportEnd, as EventBridge delivers it)."""

from __future__ import annotations

import time

import pytest
from dr_autopilot.states import StateName

from local.aws import ACCOUNT, REGION
from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.events import execution_status_event

pytestmark = pytest.mark.workflow
FINAL = ("succeeded", "failed", "aborted", "timed out", "dry run", "input refused")


def finals(env: LocalFailoverEnvironment) -> list[dict[str, str]]:
    return [m for m in env.site.notifications() if m["subject"].endswith(FINAL)]


def test_an_aborted_failover_gets_one_message_naming_what_it_launched(env: LocalFailoverEnvironment) -> None:
    # Given a failover that has launched and is polling the job
    arn = env.executions.start({"requestedBy": "alice"})
    deadline = time.monotonic() + 30
    while StateName.POLL_JOB not in [
        e["stateEnteredEventDetails"]["name"] for e in env.executions.history(arn) if "stateEnteredEventDetails" in e
    ]:
        assert time.monotonic() < deadline, "the run never reached PollJob"
        time.sleep(0.1)
    # When on-call stops (aborts) the execution
    env.aws.client("stepfunctions").stop_execution(executionArn=arn, error="Stopped", cause="stopped by alice")
    result = env.executions.wait(arn)
    # Then it is ABORTED, and exactly one final message says so, naming the launch job it started
    assert result.status == "ABORTED"
    (final,) = finals(env)
    assert final["subject"] == "[DR Autopilot] recovery aborted"
    job_id = next(iter(env.emulator.account.jobs))
    assert f"Launch job {job_id} (RECOVERY) was started" in final["message"]
    assert f"was not changed: it still points at {PRIMARY_ADDRESS}" in final["message"]
    # And the aborted run no longer holds the lock: on-call can start again at once
    again = env.executions.run({"requestedBy": "alice", "reason": "after the abort"})
    assert StateName.LAUNCH_RECOVERY in again.entered_states and again.status == "SUCCEEDED", again.cause


@pytest.mark.parametrize(
    ("scenario", "failover_input", "outcome"),
    [
        ("two-tier", {"requestedBy": "alice"}, "recovery succeeded"),
        ("lagging", {"requestedBy": "alice"}, "recovery failed"),
        ("two-tier", {"mode": "failback"}, "failover input refused"),
        ("two-tier", {"dryRun": True}, "recovery dry run"),
    ],
)
def test_every_end_the_workflow_reports_gets_exactly_one_final_message(
    env: LocalFailoverEnvironment, scenario: str, failover_input: dict[str, object], outcome: str
) -> None:
    # Given a site in the scenario
    env.reset_site(scenario)
    # When a run ends (succeeded, failed, input refused, dry run) and its end event is delivered
    result = env.executions.run(failover_input)
    # Then exactly one final message was sent, the right one
    assert [m["subject"] for m in finals(env)] == [f"[DR Autopilot] {outcome}"], result.end_reports


def test_an_end_event_for_a_run_that_is_still_running_changes_nothing(env: LocalFailoverEnvironment) -> None:
    # Given a failover polling its launch job, and a status event claiming it FAILED (a redriven run
    # announces its earlier end; found by the red team)
    states = env.aws.client("stepfunctions")
    arn = env.executions.start({"requestedBy": "alice"})
    deadline = time.monotonic() + 30
    while StateName.POLL_JOB not in [
        e["stateEnteredEventDetails"]["name"] for e in env.executions.history(arn) if "stateEnteredEventDetails" in e
    ]:
        assert time.monotonic() < deadline, "the run never reached PollJob"
        time.sleep(0.1)
    claim = execution_status_event({**states.describe_execution(executionArn=arn), "status": "FAILED"}, ACCOUNT, REGION)
    # When the event reaches ReportEnd
    (answer,) = env.executions.deliver_event(claim)
    # Then nothing is reported and the run keeps its lock: a console start meanwhile is refused
    assert answer == {"reported": False}
    assert finals(env) == []
    refused = env.executions.run({"requestedBy": "bob"})
    assert refused.status == "FAILED" and refused.error == "FailoverInProgress"
    # And the run itself finishes with its one final message
    result = env.executions.wait(arn)
    assert result.status == "SUCCEEDED" and env.emulator.account.launches_accepted == 1
    assert [m["subject"] for m in finals(env)] == ["[DR Autopilot] recovery succeeded"]
