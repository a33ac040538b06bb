"""A drill's end: its site is held (drill.holdMinutes, or until `dr-autopilot drill-cleanup`), then
its drill record is put back and its instances are terminated, only what this drill made."""

from __future__ import annotations

import io
import json

import pytest
from dr_autopilot.states import StateName

from dr_autopilot_cli import operations
from dr_autopilot_cli.main import EXIT_OK, EXIT_USAGE, main
from local.cli_backend import backend_for
from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from tests.workflow.conftest import ON_BOTH_PROVIDERS

pytestmark = pytest.mark.workflow

DRILL_RECORD = "drill.example.com"


def cli(env: LocalFailoverEnvironment, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), backend=backend_for(env), out=out)
    return code, out.getvalue()


def final_messages(env: LocalFailoverEnvironment) -> list[dict[str, str]]:
    return [m for m in env.site.notifications() if m["subject"].startswith("[DR Autopilot] drill ")]


@ON_BOTH_PROVIDERS
def test_a_drill_held_then_cleaned_up_on_demand_leaves_nothing_behind(env: LocalFailoverEnvironment) -> None:
    # Given a drill whose site is up and held
    arn = env.executions.start({"mode": "drill", "requestedBy": "bob"})
    env.executions.wait_until_entered(arn, StateName.HOLD_DRILL)
    (job_id,) = env.provider.launch_job_ids()
    address = env.site.record_values(DRILL_RECORD)
    # Then while it is held the drill record points at the drill's webserver and its instances run
    assert address and env.provider.running_instances(job_id)
    launched = set(env.provider.running_instances(job_id))
    # When on-call ends the hold from the CLI
    code, text = cli(env, "drill-cleanup", arn, "--by", "carol")
    assert code == EXIT_OK and "cleaned up" in text
    result = env.executions.wait(arn)
    # Then the drill succeeds and its instances, all of them, are terminated in the emulator
    assert result.status == "SUCCEEDED", result.cause
    assert env.provider.running_instances(job_id) == []
    (cleanup,) = [out["cleanup"] for out in result.state_outputs(StateName.CLEAN_UP_DRILL)]
    assert cleanup["instancesTerminated"] == 2 and cleanup["requestedBy"].startswith("on demand")
    assert {item.split(": ")[1] for item in cleanup["instanceIds"]} == launched
    # And who ended the hold is in the execution's history
    answers = [e["taskSucceededEventDetails"]["output"] for e in result.events if e["type"] == "TaskSucceeded"]
    assert any("carol with dr-autopilot drill-cleanup" in answer for answer in answers)
    # And the drill record, which did not exist before, is removed; the site record was never touched
    assert env.site.record_values(DRILL_RECORD) == [] and cleanup["record"] == "removed"
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    # And one final message says what the clean-up did
    (final,) = final_messages(env)
    assert final["subject"] == "[DR Autopilot] drill succeeded"
    assert (
        "2 instance(s) of this drill terminated" in final["message"]
        and "drill.example.com A removed" in final["message"]
    )
    # And a second clean-up request for the ended drill is refused, naming why
    code, _ = cli(env, "drill-cleanup", arn)
    assert code == EXIT_USAGE


def test_a_held_drill_is_cleaned_up_by_its_timer(env: LocalFailoverEnvironment) -> None:
    # Given a drill record that existed before the drill, pointing somewhere else
    env.site.set_record(DRILL_RECORD, "198.51.100.7")
    # When a drill runs and nobody ends its hold (one minute, on the interpreter's clock)
    result = env.executions.run({"mode": "drill", "requestedBy": "bob"})
    # Then the hold's timer ended it and the drill was cleaned up
    assert result.status == "SUCCEEDED", result.cause
    assert StateName.HOLD_EXPIRED in result.entered_states
    (cleanup,) = [out["cleanup"] for out in result.state_outputs(StateName.CLEAN_UP_DRILL)]
    assert cleanup["requestedBy"] == "the hold's timer (1 min)"
    assert env.provider.running_instances(env.provider.launch_job_ids()[0]) == []
    # And the drill record points where it did before the drill
    assert env.site.record_values(DRILL_RECORD) == ["198.51.100.7"] and cleanup["record"] == "restored"


def test_a_drill_record_changed_during_the_hold_is_left_as_it_is(env: LocalFailoverEnvironment) -> None:
    # Given a held drill
    arn = env.executions.start({"mode": "drill", "requestedBy": "bob"})
    env.executions.wait_until_entered(arn, StateName.HOLD_DRILL)
    # When someone points the drill record elsewhere meanwhile, and the hold ends
    env.site.set_record(DRILL_RECORD, "203.0.113.99")
    env.executions.end_hold(arn, "carol")
    result = env.executions.wait(arn)
    # Then the clean-up terminated the instances but left the record, and says so
    assert result.status == "SUCCEEDED", result.cause
    assert env.site.record_values(DRILL_RECORD) == ["203.0.113.99"]
    (final,) = final_messages(env)
    assert "changed after the drill set it (now 203.0.113.99): left as it is" in final["message"]
    assert env.provider.running_instances(env.provider.launch_job_ids()[0]) == []


@ON_BOTH_PROVIDERS
def test_a_recovery_during_the_hold_is_not_touched_by_the_drill_clean_up(env: LocalFailoverEnvironment) -> None:
    # Given a held drill
    drill = env.executions.start({"mode": "drill", "requestedBy": "bob"})
    env.executions.wait_until_entered(drill, StateName.HOLD_DRILL)
    # When the primary fails for real and a recovery runs while the drill is held
    recovery = env.executions.run({"requestedBy": "alice"})
    assert recovery.status == "SUCCEEDED", recovery.cause
    recovery_job = env.provider.launch_job_ids()[-1]
    recovered = set(env.provider.running_instances(recovery_job))
    # And then the drill's hold ends
    env.executions.end_hold(drill, "carol")
    result = env.executions.wait(drill)
    # Then the recovery's instances all still run, and the site record still points at the recovered site
    assert result.status == "SUCCEEDED", result.cause
    assert set(env.provider.running_instances(recovery_job)) == recovered and recovered
    assert recovery.output is not None and env.site.record_values() == [recovery.output["recoveredAddress"]]
    # And the drill terminated only its own instances (none of the drill's runs)
    assert env.provider.running_instances(env.provider.launch_job_ids()[0]) == []


def test_approve_does_not_end_a_drill_hold(env: LocalFailoverEnvironment) -> None:
    # Given a held drill
    arn = env.executions.start({"mode": "drill", "requestedBy": "bob"})
    env.executions.wait_until_entered(arn, StateName.HOLD_DRILL)
    # When someone runs `approve` against it by mistake
    code, _ = cli(env, "approve", arn)
    # Then it is refused (it waits for no approval), and the drill is still held
    assert code == EXIT_USAGE
    assert env.executions.history(arn)[-1]["type"] != "ExecutionSucceeded"
    env.executions.end_hold(arn, "carol")
    assert env.executions.wait(arn).status == "SUCCEEDED"


@pytest.mark.parametrize("answer", ["{}", '["carol"]', json.dumps({"endedBy": "x" * 250_000})])
def test_any_answer_to_the_hold_ends_it_and_cleans_up(env: LocalFailoverEnvironment, answer: str) -> None:
    # Given a held drill (found by the red team: an answer without endedBy, or a huge one, would in
    # AWS end the drill with an error States.ALL does not catch, leaving everything running)
    arn = env.executions.start({"mode": "drill", "requestedBy": "bob"})
    env.executions.wait_until_entered(arn, StateName.HOLD_DRILL)
    # When someone answers the task token with whatever they typed
    token = operations.pending_task_token(env.aws.client("stepfunctions"), arn, StateName.HOLD_DRILL)
    env.aws.client("stepfunctions").send_task_success(taskToken=token, output=answer)
    result = env.executions.wait(arn)
    # Then the hold ends as asked for, the answer stays out of the state, and the drill is cleaned up
    assert result.status == "SUCCEEDED", result.cause
    assert StateName.HOLD_ENDED in result.entered_states
    assert env.provider.running_instances(env.provider.launch_job_ids()[0]) == []
    assert env.site.record_values(DRILL_RECORD) == []
    assert all(len(e.get("stateExitedEventDetails", {}).get("output", "")) < 20_000 for e in result.events)


def test_route53_refusing_the_restore_still_terminates_and_says_so(env: LocalFailoverEnvironment) -> None:
    # Given a held drill, and Route 53 throttling every change from now on
    arn = env.executions.start({"mode": "drill", "requestedBy": "bob"})
    env.executions.wait_until_entered(arn, StateName.HOLD_DRILL)
    env.aws.fail_calls("route53", "ChangeResourceRecordSets", "Throttling")
    try:
        # When the hold ends
        env.executions.end_hold(arn, "carol")
        result = env.executions.wait(arn)
    finally:
        env.aws.clear_faults("route53", "ChangeResourceRecordSets")
    # Then the instances were terminated all the same (found by the red team: they all kept running)
    assert result.status == "SUCCEEDED", result.cause
    assert env.provider.running_instances(env.provider.launch_job_ids()[0]) == []
    # And the final message says the drill record could not be put back, and where it points
    (final,) = final_messages(env)
    assert "could not be put back (Route 53 kept throttling)" in final["message"]
    assert env.site.record_values(DRILL_RECORD) != []
