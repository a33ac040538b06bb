"""A re-driven or retried LaunchRecovery of the same execution returns the stored result and
never launches again (Powertools idempotency keyed on the execution id, table in the stack).

moto does not implement RedriveExecution, so the re-drive is done as Step Functions does it:
the failed step is invoked again with the same input, through the Lambda Invoke API."""

from __future__ import annotations

import json

import pytest
import requests
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment

pytestmark = pytest.mark.workflow


def test_launch_invoked_again_for_the_same_execution_returns_the_stored_job(env: LocalFailoverEnvironment) -> None:
    # Given a completed failover and the exact input its LaunchRecovery step received
    result = env.executions.run({"requestedBy": "alice"})
    assert result.status == "SUCCEEDED"
    (launch_input,) = [
        e["stateEnteredEventDetails"]["input"]
        for e in result.events
        if e.get("stateEnteredEventDetails", {}).get("name") == "LaunchRecovery"
    ]
    first = result.state_outputs("LaunchRecovery")[-1]["launch"]
    assert env.deployment is not None
    (function,) = [name for name in env.deployment.functions if "LaunchRecovery" in name]
    # When the step runs again for the same execution (a re-drive), twice
    answers = [
        json.loads(env.aws.client("lambda").invoke(FunctionName=function, Payload=launch_input)["Payload"].read())
        for _ in range(2)
    ]
    # Then both answers are the stored result: same job, no adoption needed, no new launch
    assert all(answer["jobId"] == first["jobId"] and answer.get("adopted") is not True for answer in answers)
    assert env.emulator.account.launches_accepted == 1


def test_a_different_execution_launches_anew(env: LocalFailoverEnvironment) -> None:
    # Given a failover that has completed
    first = env.executions.run({"requestedBy": "alice"})
    # When another execution is started for a second incident
    second = env.executions.run({"requestedBy": "alice", "reason": "second incident"})
    # Then both succeed with a job each: the stored launch belongs to one execution only
    assert first.status == second.status == "SUCCEEDED"
    jobs = {r.state_outputs("LaunchRecovery")[-1]["launch"]["jobId"] for r in (first, second)}
    assert len(jobs) == 2 and env.emulator.account.launches_accepted == 2


def test_a_launch_whose_idempotency_record_cannot_be_saved_is_reported_by_its_job(
    env: LocalFailoverEnvironment,
) -> None:
    # Given the idempotency table refuses to record LaunchRecovery's result (found by the red team:
    # the failure message then said "No launch was started" while the job ran)
    env.aws.fail_calls_after(
        StateName.CHOOSE_RECOVERY_POINT, "dynamodb", "UpdateItem", "InternalServerError", count=1000
    )
    try:
        # When on-call starts a failover
        result = env.executions.run({"requestedBy": "alice"})
    finally:
        env.aws.clear_faults("dynamodb", "UpdateItem")
    # Then the run failed with DNS unchanged and one launch at most
    assert result.status == "FAILED"
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    assert env.emulator.account.launches_accepted == 1
    # And the one failure message names the job that was started, never "No launch was started"
    (final,) = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    (job_id,) = env.emulator.account.jobs
    assert f"Launch job {job_id} (RECOVERY) was started" in final["message"]
    assert "No launch was started" not in final["message"]


def test_a_launch_function_that_dies_after_launching_is_retried_into_its_own_job(
    env: LocalFailoverEnvironment,
) -> None:
    # Given LaunchRecovery's process dies right after the launch call (found by the red team: the
    # dead attempt's in-progress record outlived every retry, and the run failed)
    env.aws.die_at(StateName.LAUNCH_RECOVERY, "sns", "Publish")
    try:
        # When on-call starts a failover (the interpreter's clock, and the functions' time limits, 100x)
        with env.aws.interpreter_speed(100):
            result = env.executions.run({"requestedBy": "alice"})
    finally:
        env.aws.clear_faults("sns", "Publish")
    # Then the step failed with Lambda.Unknown, waited out the dead attempt as LaunchInProgress,
    # and adopted the job that attempt started: one launch, and the failover succeeded
    errors = [e["taskFailedEventDetails"]["error"] for e in result.events if e.get("type") == "TaskFailed"] + [
        e["lambdaFunctionFailedEventDetails"]["error"] for e in result.events if e.get("type") == "LambdaFunctionFailed"
    ]
    assert "Lambda.Unknown" in errors and "LaunchInProgress" in errors, errors
    assert result.status == "SUCCEEDED", result.cause
    assert env.emulator.account.launches_accepted == 1
    assert result.state_outputs("LaunchRecovery")[-1]["launch"]["adopted"] is True


def test_a_lost_launch_answer_then_a_jobs_listing_that_fails_is_reported_as_a_possible_launch(
    env: LocalFailoverEnvironment,
) -> None:
    # Given the launch takes effect but its answer is lost, and the jobs listing (asked once before
    # the launch, for a job to adopt) then fails for good
    # (found by the red team: the report said "No launch was started" while the job ran)
    for fault in (
        {"route": "launchMachines", "kind": "drop-after", "count": 1},
        {"route": "jobs", "kind": "503", "count": 1000, "afterCalls": 1},
    ):
        requests.post(f"{env.emulator.admin_url}/faults", json=fault, timeout=5).raise_for_status()
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then it fails with DNS unchanged and the one launch that took effect, never a second
    assert result.status == "FAILED" and env.site.record_values() == [PRIMARY_ADDRESS]
    assert env.emulator.account.launches_accepted == 1
    # And the failure message says a launch may have been started and where to look, never "no launch"
    (final,) = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    assert "A launch job may have been started" in final["message"], final["message"]
    assert "Look at the provider's jobs" in final["message"]
    assert "No launch was started" not in final["message"]


def test_a_redriven_run_whose_lock_another_run_holds_launches_nothing(env: LocalFailoverEnvironment) -> None:
    # Given run A aborted just before its launch (found by the red team: redriven later, it launched
    # a second recovery over the site that run B had recovered, and switched DNS again)
    env.aws.runtime.stall(StateName.CHECK_DNS_RECORD, seconds=60)
    first = env.executions.start({"requestedBy": "alice"})
    env.executions.wait_until_entered(first, StateName.CHECK_DNS_RECORD)
    env.aws.client("stepfunctions").stop_execution(executionArn=first, error="Stopped", cause="by alice")
    env.executions.wait(first)
    env.aws.runtime.disarm()
    (redrive_input,) = [
        e["stateEnteredEventDetails"]["input"]
        for e in env.executions.history(first)
        if e.get("stateEnteredEventDetails", {}).get("name") == StateName.CHECK_DNS_RECORD
    ]
    # And run B holds the lock, between its launch and its DNS change
    env.aws.runtime.stall(StateName.HEALTH_CHECK, seconds=60)
    second = env.executions.start({"requestedBy": "bob"})
    env.executions.wait_until_entered(second, StateName.HEALTH_CHECK)
    # When A's launch step runs again (a redrive resumes after AcquireLock)
    (function,) = [name for name in env.deployment.functions if "LaunchRecovery" in name]
    answer = env.aws.client("lambda").invoke(FunctionName=function, Payload=redrive_input.encode())
    body = json.loads(answer["Payload"].read())
    # Then it is refused as LockLost, naming B, and B's is the only launch
    assert answer.get("FunctionError") and body["errorType"] == "LockLost", body
    assert second.rsplit(":", 1)[-1] in body["errorMessage"]
    assert env.emulator.account.launches_accepted == 1
    env.aws.runtime.disarm()
    assert env.executions.wait(second).status == "SUCCEEDED"


def test_a_launch_that_died_and_whose_job_then_failed_is_not_launched_again(env: LocalFailoverEnvironment) -> None:
    # Given LaunchRecovery dies right after launching, and the job it started fails meanwhile
    # (found by the red team: the retry skipped the FAILED job, launched a second time, and the
    # report named only the second job)
    env.reset_site("job-fails")
    env.aws.die_at(StateName.LAUNCH_RECOVERY, "sns", "Publish")
    try:
        with env.aws.interpreter_speed(100):
            result = env.executions.run({"requestedBy": "alice"})
    finally:
        env.aws.clear_faults("sns", "Publish")
    # Then the retry adopted the failed job: one launch, the run failed as JobFailed naming that job
    (job_id,) = env.emulator.account.jobs
    assert env.emulator.account.launches_accepted == 1
    assert result.status == "FAILED" and result.error == "JobFailed", result.cause
    (final,) = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    assert job_id in final["message"]
