"""Alarm-started failovers: the synthesized rule's pattern and input, and de-duplication of an
alarm storm into exactly one launch."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.events import alarm_event, matches, transform

pytestmark = pytest.mark.workflow
SITE_ALARM = "www-example-com-down"  # the alarm named in cdk.json


def rule(env: LocalFailoverEnvironment) -> dict[str, Any]:
    (found,) = [
        r["Properties"]
        for r in env.template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule" and r["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]
    ]
    return found  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (alarm_event(SITE_ALARM), True),
        (alarm_event(SITE_ALARM, state="OK"), False),
        (alarm_event(SITE_ALARM, state="INSUFFICIENT_DATA"), False),
        (alarm_event("billing-over-budget"), False),
        ({**alarm_event(SITE_ALARM), "source": "aws.health"}, False),
    ],
)
def test_rule_matches_only_alarm_state_of_the_configured_alarms(
    env: LocalFailoverEnvironment, event: dict[str, Any], expected: bool
) -> None:
    # Given an event on the bus: the configured alarm entering ALARM, OK or INSUFFICIENT_DATA, another
    # alarm, or the configured alarm's event from another source (the table)
    # When the synthesized rule's pattern is applied to it
    # Then it matches only the configured alarm entering ALARM
    assert matches(rule(env)["EventPattern"], event) is expected


def test_rule_input_is_the_transformed_event_and_passes_validation(env: LocalFailoverEnvironment) -> None:
    # Given the ALARM event CloudWatch sends
    event = alarm_event(
        SITE_ALARM, reason="Threshold Crossed: 2 datapoints were less than 1.0", time="2026-11-25T02:59:00Z"
    )
    (target,) = rule(env)["Targets"]
    # When the rule's transformer builds the input
    started_input = json.loads(transform(target["InputTransformer"], event))
    # Then it is the documented alarm input
    assert started_input == {
        "requestedBy": "cloudwatch-alarm",
        "alarm": {
            "name": SITE_ALARM,
            "reason": "Threshold Crossed: 2 datapoints were less than 1.0",
            "time": "2026-11-25T02:59:00Z",
        },
    }
    # And the workflow accepts it as an alarm-started failover
    (arn,) = env.executions.deliver_event(event)
    result = env.executions.wait(arn)
    assert result.status == "SUCCEEDED", result.cause
    request = result.state_outputs("ValidateInput")[-1]["request"]
    assert request["trigger"] == "alarm" and request["alarmName"] == SITE_ALARM


def test_alarm_storm_leads_to_exactly_one_failover(env: LocalFailoverEnvironment) -> None:
    # Given 20 ALARM events for one outage within a minute, five of them at the same moment,
    # mixed with OK events and another alarm (which start nothing)
    storm = [alarm_event(SITE_ALARM, time=f"2026-11-25T03:00:{second:02d}Z") for second in range(0, 60, 3)]
    noise = [alarm_event(SITE_ALARM, state="OK"), alarm_event("billing-over-budget")]
    started: list[str] = []
    lock = threading.Lock()

    def deliver(event: dict[str, Any]) -> None:
        arns = env.executions.deliver_event(event)
        with lock:
            started.extend(arns)

    threads = [threading.Thread(target=deliver, args=(event,)) for event in storm[:5]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for event in storm[5:] + noise:
        deliver(event)
        time.sleep(0.05)
    # When every execution has ended
    results = [env.executions.wait(arn) for arn in started]
    # Then 20 executions ran (the noise started none), exactly one launched and switched DNS
    assert len(results) == 20
    assert env.emulator.account.launches_accepted == 1
    winners = [r for r in results if "LaunchRecovery" in r.entered_states]
    assert len(winners) == 1 and winners[0].status == "SUCCEEDED"
    assert env.site.record_values() != [PRIMARY_ADDRESS]
    # And the 19 others were visibly recorded as duplicates, in the history and in SNS
    duplicates = [r for r in results if r.entered_states[-1] == "Deduplicated"]
    odd = [(r.status, r.error, r.cause, r.entered_states) for r in results if r not in duplicates and r not in winners]
    assert len(duplicates) == 19, odd
    suppressed = [m for m in env.site.notifications() if m["subject"].endswith("duplicate alarm suppressed")]
    assert len(suppressed) == 19
    assert all("recorded as a duplicate" in m["message"] for m in suppressed)


def test_alarm_within_the_cooldown_starts_nothing_but_on_call_still_can(env: LocalFailoverEnvironment) -> None:
    # Given an alarm-started failover that has finished
    first = env.executions.wait(env.executions.deliver_event(alarm_event(SITE_ALARM))[0])
    assert first.status == "SUCCEEDED"
    # When a later alarm for the same outage arrives after the failover finished: still within the cool-down
    late = env.executions.wait(env.executions.deliver_event(alarm_event(SITE_ALARM))[0])
    # Then it is recorded as a duplicate, the lock naming the cool-down
    assert late.entered_states[-1] == "Deduplicated"
    assert "cool-down" in json.dumps(late.state_outputs("AcquireLock")[-1]["lock"])
    # And on-call staff are not bound by the alarm cool-down: their start launches again
    manual = env.executions.run({"requestedBy": "alice", "reason": "run it again"})
    assert manual.status == "SUCCEEDED", manual.cause
    assert env.emulator.account.launches_accepted == 2


def test_console_start_while_a_failover_runs_is_refused_without_side_effect(env: LocalFailoverEnvironment) -> None:
    # Given a failover whose recovery job never finishes, running and launched
    env.reset_site("stuck-job")
    running = env.executions.start({"requestedBy": "alice"})
    deadline = time.monotonic() + 30
    while env.emulator.account.launches_accepted == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    # When bob starts another failover from the console
    second = env.executions.run({"requestedBy": "bob"})
    # Then it is refused as FailoverInProgress, saying one is already running
    assert second.status == "FAILED" and second.error == "FailoverInProgress"
    assert "already running" in (second.cause or "")
    # And no second launch was made
    assert env.emulator.account.launches_accepted == 1
    # And bob got one final message of his own: refused, naming the run that holds the lock (found
    # by the red team: he got "duplicate alarm suppressed", and nothing if that publish failed)
    messages = env.site.notifications()
    (refusal,) = [m for m in messages if m["subject"] == "[DR Autopilot] recovery refused"]
    assert f"failover {running.rsplit(':', 1)[-1]} is already running" in refusal["message"]
    assert "Nothing was launched and DNS was not changed" in refusal["message"]
    assert not [m for m in messages if "duplicate alarm" in m["subject"]]
    env.executions.wait(running)


def test_an_alarm_during_a_drill_launches_the_recovery(env: LocalFailoverEnvironment) -> None:
    # Given a drill that has launched and is checking its test webserver (found by the red team:
    # the drill held the one failover lock and the alarm was suppressed as a duplicate)
    env.aws.runtime.stall(StateName.HEALTH_CHECK, seconds=60)
    drill = env.executions.start({"mode": "drill", "requestedBy": "alice"})
    env.executions.wait_until_entered(drill, StateName.HEALTH_CHECK)
    # When the site-down alarm fires
    (recovery,) = env.executions.deliver_event(alarm_event(SITE_ALARM))
    env.aws.runtime.disarm()  # the drill's stalled check may run now
    result = env.executions.wait(recovery)
    # Then the recovery launched and switched production DNS
    assert result.status == "SUCCEEDED", result.cause
    assert StateName.LAUNCH_RECOVERY in result.entered_states
    assert env.site.record_values() == [result.output["recoveredAddress"]]  # type: ignore[index]
    env.executions.wait(drill)


def test_an_alarm_right_after_a_drill_launches_the_recovery(env: LocalFailoverEnvironment) -> None:
    # Given a drill that has just finished
    drill = env.executions.run({"mode": "drill", "requestedBy": "alice"}, end_hold_as="alice")
    assert drill.status == "SUCCEEDED", drill.cause
    # When the site-down alarm fires (the drill started no recovery cool-down)
    result = env.executions.wait(env.executions.deliver_event(alarm_event(SITE_ALARM))[0])
    # Then the recovery launched, and not as a duplicate
    assert result.status == "SUCCEEDED", result.cause
    assert result.entered_states[-1] != StateName.DEDUPLICATED
    assert env.emulator.account.launches_accepted == 2


def test_a_second_drill_while_one_runs_is_refused_naming_it(env: LocalFailoverEnvironment) -> None:
    # Given a drill that is checking its test webserver
    env.aws.runtime.stall(StateName.HEALTH_CHECK, seconds=60)
    first = env.executions.start({"mode": "drill", "requestedBy": "alice"})
    env.executions.wait_until_entered(first, StateName.HEALTH_CHECK)
    # When bob starts another drill from the console
    second = env.executions.run({"mode": "drill", "requestedBy": "bob"})
    env.aws.runtime.disarm()
    # Then it is refused, naming the drill that runs, with nothing launched for it
    assert second.status == "FAILED" and second.error == "FailoverInProgress"
    assert f"drill {first.rsplit(':', 1)[-1]} is already running" in (second.cause or "")
    assert env.emulator.account.launches_accepted == 1
    env.executions.wait(first)
