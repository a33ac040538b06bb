"""Every end of an execution, including the ones the workflow cannot report itself, yields exactly
one final message that says what was and was not changed (Step Functions' status-change event
reaches ReportEnd, as EventBridge delivers it)."""

from __future__ import annotations

import pytest
from dr_autopilot.states import StateName

from local.aws import ACCOUNT, REGION
from local.ends import is_final
from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.events import execution_status_event
from tests.workflow.conftest import ON_BOTH_PROVIDERS

pytestmark = pytest.mark.workflow


def finals(env: LocalFailoverEnvironment) -> list[dict[str, str]]:
    return [m for m in env.site.notifications() if is_final(m)]


@ON_BOTH_PROVIDERS
def test_an_aborted_failover_gets_one_message_naming_what_it_launched(env: LocalFailoverEnvironment) -> None:
    # Given a failover that has launched and is polling the job
    arn = env.executions.start({"requestedBy": "alice"})
    env.executions.wait_until_entered(arn, StateName.POLL_JOB)
    # When on-call stops (aborts) the execution
    env.aws.client("stepfunctions").stop_execution(executionArn=arn, error="Stopped", cause="stopped by alice")
    result = env.executions.wait(arn)
    # Then it is ABORTED, and exactly one final message says so, naming the launch job it started
    assert result.status == "ABORTED"
    (final,) = finals(env)
    assert final["subject"] == "[DR Autopilot] recovery aborted"
    (job_id,) = env.provider.launch_job_ids()
    assert f"Launch job {job_id} (RECOVERY) was started" in final["message"]
    assert f"was not changed: it still points at {PRIMARY_ADDRESS}" in final["message"]
    # And the aborted run no longer holds the lock: once the job it started has ended (CloudEndure
    # and DRS refuse a launch for machines with a running job), on-call can start again
    env.provider.clock.advance(600)
    again = env.executions.run({"requestedBy": "alice", "reason": "after the abort"})
    assert StateName.LAUNCH_RECOVERY in again.entered_states and again.status == "SUCCEEDED", again.cause


def test_a_console_start_after_an_abort_whose_end_event_was_lost_takes_over_the_lock(
    env: LocalFailoverEnvironment,
) -> None:
    # Given a recovery that was aborted before it launched (a launched job would still be running at
    # CloudEndure, which refuses a second one), and whose end event never reached ReportEnd, so the
    # lock still names it as running
    env.aws.runtime.stall(StateName.CHECK_REPLICATION, seconds=60)  # held there until the abort
    arn = env.executions.start({"requestedBy": "alice"})
    env.executions.wait_until_entered(arn, StateName.CHECK_REPLICATION)
    env.aws.client("stepfunctions").stop_execution(executionArn=arn, error="Stopped", cause="stopped by alice")
    assert env.executions.wait(arn, deliver_end=False).status == "ABORTED"
    # When on-call starts a recovery from the console right away
    again = env.executions.run({"requestedBy": "alice", "reason": "after the abort"})
    # Then it takes over the dead run's lock and fails over
    assert StateName.LAUNCH_RECOVERY in again.entered_states and again.status == "SUCCEEDED", again.cause


@ON_BOTH_PROVIDERS
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
    env.executions.wait_until_entered(arn, StateName.POLL_JOB)
    claim = execution_status_event({**states.describe_execution(executionArn=arn), "status": "FAILED"}, ACCOUNT, REGION)
    # When the event reaches ReportEnd
    (answer,) = env.executions.deliver_event(claim)
    # Then nothing is reported and the run keeps its lock: a console start meanwhile is refused
    assert answer == {"reported": False}
    assert finals(env) == []
    refused = env.executions.run({"requestedBy": "bob"})
    assert refused.status == "FAILED" and refused.error == "FailoverInProgress"
    # And each run has its one final message: bob's refusal, then the run's own success
    result = env.executions.wait(arn)
    assert result.status == "SUCCEEDED" and env.emulator.account.launches_accepted == 1
    subjects = [m["subject"] for m in finals(env)]
    assert subjects == ["[DR Autopilot] recovery refused", "[DR Autopilot] recovery succeeded"]


def test_a_success_report_retried_after_it_published_sends_one_message(env: LocalFailoverEnvironment) -> None:
    # Given ReportSuccess publishes its summary and then times out, twice (the retry runs it again;
    # found by the red team: every retry re-sent "succeeded")
    env.aws.runtime.time_out_after_return(StateName.REPORT_SUCCESS, count=2)
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then the run SUCCEEDED, and exactly one final message says so
    assert result.status == "SUCCEEDED", result.cause
    assert [m["subject"] for m in finals(env)] == ["[DR Autopilot] recovery succeeded"]


def test_a_failure_report_that_times_out_on_every_attempt_after_publishing_sends_one_message(
    env: LocalFailoverEnvironment,
) -> None:
    # Given a lagging site, and ReportFailure that publishes and then times out on every attempt
    env.reset_site("lagging")
    env.aws.runtime.time_out_after_return(StateName.REPORT_FAILURE, count=10)
    # When on-call starts a failover (the workflow ends failed and unreported; ReportEnd looks at it)
    result = env.executions.run({"requestedBy": "alice"})
    # Then the run FAILED, and exactly one final message was sent in all
    assert result.status == "FAILED"
    assert [m["subject"] for m in finals(env)] == ["[DR Autopilot] recovery failed"], result.end_reports


def test_an_end_event_delivered_twice_sends_one_message(env: LocalFailoverEnvironment) -> None:
    # Given an execution that was refused (its end is reported by ReportEnd alone)
    result = env.executions.run({"mode": "failback"})
    states = env.aws.client("stepfunctions")
    # When EventBridge delivers its status event again (delivery is at least once)
    again = execution_status_event(states.describe_execution(executionArn=result.arn), ACCOUNT, REGION)
    env.executions.deliver_event(again)
    # Then there is still exactly one final message
    assert [m["subject"] for m in finals(env)] == ["[DR Autopilot] failover input refused"]


@ON_BOTH_PROVIDERS
def test_a_failover_that_times_out_gets_one_message_naming_what_it_launched(env: LocalFailoverEnvironment) -> None:
    # Given PollJob stalls (a function stuck far longer than its timeout), and the interpreter's
    # clock runs 1,000 times faster, so workflowTimeoutSeconds (7,200 s) passes in 7.2 s
    env.aws.runtime.stall(StateName.POLL_JOB, seconds=60)
    with env.aws.interpreter_speed(1000):
        # When on-call starts a failover and the execution reaches its timeout
        result = env.executions.run({"requestedBy": "alice"})
    # Then it TIMED_OUT, and exactly one final message says so, naming the launch and the cut step
    assert result.status == "TIMED_OUT"
    (final,) = finals(env)
    assert final["subject"] == "[DR Autopilot] recovery timed out"
    (job_id,) = env.provider.launch_job_ids()
    assert f"Launch job {job_id} (RECOVERY) was started" in final["message"]
    assert f"was not changed: it still points at {PRIMARY_ADDRESS}" in final["message"]
    # And the timed-out run no longer holds the lock: on-call can start again at once
    env.aws.runtime.disarm()
    again = env.executions.run({"requestedBy": "alice", "reason": "after the timeout"})
    assert again.status == "SUCCEEDED", again.cause


def test_an_abort_while_dns_is_being_switched_warns_that_dns_may_move(env: LocalFailoverEnvironment) -> None:
    # Given UpdateDns is slow to start (the function will run on after the execution ends)
    env.aws.runtime.stall(StateName.UPDATE_DNS, seconds=60)
    arn = env.executions.start({"requestedBy": "alice"})
    env.executions.wait_until_entered(arn, StateName.UPDATE_DNS)
    # When on-call stops the execution while UpdateDns is in flight
    env.aws.client("stepfunctions").stop_execution(executionArn=arn, error="Stopped", cause="stopped by alice")
    result = env.executions.wait(arn)
    # Then it is ABORTED at once, and the one final message warns that DNS may still be switched
    assert result.status == "ABORTED"
    (final,) = finals(env)
    assert "UpdateDns was still running" in final["message"]
    assert "was not changed" not in final["message"]
    # And when the function does run, DNS is either unchanged (it found the lock already released
    # by the aborted run's end: LockLost) or exactly the address the message named
    env.aws.runtime.disarm()
    assert "may be switched to the recovered webserver " in final["message"]
    (address,) = env.site.record_values()
    assert address == PRIMARY_ADDRESS or f"may be switched to the recovered webserver {address}" in final["message"]
