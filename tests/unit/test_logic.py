"""The logic layer's decisions, state by state, over fakes of its ports (tests/fakes.py)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from dr_autopilot.config import CONTEXT_KEY, DnsConfig, FailoverConfig, HealthCheckConfig, JobConfig
from dr_autopilot.errors import (
    InvalidInput,
    LockLost,
    RecordOutsideZone,
    RecordTypeConflict,
    ReplicationNotReady,
    ServiceUnavailable,
    TargetUnhealthy,
)
from dr_autopilot.logic.check_dns_record import check_dns_record
from dr_autopilot.logic.check_replication import check_replication
from dr_autopilot.logic.choose_recovery_point import choose_recovery_point
from dr_autopilot.logic.health_check import landing_url
from dr_autopilot.logic.launch_recovery import launch_recovery
from dr_autopilot.logic.lock import acquire_lock, clean_up_after_report
from dr_autopilot.logic.poll_job import max_polls, next_wait
from dr_autopilot.logic.report import failure_summary, render, success_summary
from dr_autopilot.logic.update_dns import update_dns
from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import (
    ErrorInfo,
    FailoverRequest,
    HealthResult,
    LaunchResult,
    LockResult,
    MachineProblem,
    Mode,
    ReplicationReport,
    Target,
    ValidateInputEvent,
    WorkflowState,
    machines_digest,
)
from dr_autopilot.ports import Wave

from local.environment import base_context, merge
from tests.fakes import (
    NOW,
    FakeExecutions,
    FakeLock,
    FakeProvider,
    RecordingPublisher,
    RecordingRecords,
    provider_not_asked,
)

JOB = JobConfig(timeout_seconds=600, poll_min_seconds=5, poll_max_seconds=40)
HEALTH = HealthCheckConfig(expected_text="Hello", port=8080)
DNS = DnsConfig(hosted_zone_id="Z123", record_name="www.example.com")
CONFIG = FailoverConfig.parse(base_context()[CONTEXT_KEY])
HELD = FakeLock(holder="arn:exec")  # this execution ("arn:exec") holds the recovery lock


def request(**changes: object) -> FailoverRequest:
    base = {
        "mode": Mode.RECOVERY,
        "force": False,
        "dry_run": False,
        "requested_by": "alice",
        "reason": "",
        "trigger": "console",
        "execution_id": "arn:exec",
        "execution_name": "exec-1",
        "started_at": NOW,
    }
    return FailoverRequest.model_validate({**base, **changes})


def event(raw: object) -> ValidateInputEvent:
    return ValidateInputEvent.model_validate(
        {"input": raw, "execution": {"id": "arn:exec", "name": "exec-1", "startTime": NOW.isoformat()}}
    )


# ------------------------------------------------------------------------------ ValidateInput
def test_empty_input_means_recovery_from_the_latest_point() -> None:
    # Given an empty failover input
    # When it is validated
    parsed = validate_input(event({}))
    # Then it is a recovery from the latest point, not forced and not a dry run
    assert parsed.mode is Mode.RECOVERY and parsed.point_in_time is None and not parsed.force and not parsed.dry_run


def test_alarm_input_is_attributed_to_the_alarm() -> None:
    # Given the input the alarm rule builds
    # When it is validated
    parsed = validate_input(
        event({"alarm": {"name": "site-down", "reason": "Threshold Crossed", "time": "2026-11-25T02:59:00Z"}})
    )
    # Then the failover is attributed to the alarm: trigger, requester and reason
    assert parsed.trigger == "alarm" and parsed.requested_by == "site-down" and parsed.reason == "Threshold Crossed"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"mode": "failback"}, "mode: Input should be 'recovery' or 'drill'"),
        ({"pointInTime": "2026-11-25T01:00:00"}, "pointInTime"),
        ({"pointInTime": "1732500000"}, "ISO-8601"),
        ({"pointInTime": "2026-11-26T01:00:00Z"}, "in the future"),
        ({"force": "maybe"}, "force"),
        ({"force": 1}, "force"),
        ({"force": "true"}, "force"),
        ({"dryRun": 0}, "dryRun"),
        ({"requestedBy": "x" * 200}, "requestedBy"),
        ({"requestedBy": "$(rm -rf /)"}, "requestedBy"),
        ({"alarm": {"name": "site-down", "time": 0}}, "alarm.time"),
        ({"alarm": {"name": "site-down", "time": "1732500000"}}, "alarm.time"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted (unknown field; allowed fields: mode, pointInTime"),
        (["recovery"], "must be a JSON object"),
    ],
)
def test_wrong_input_names_the_field_and_what_is_allowed(raw: object, words: str) -> None:
    # Given an input with one wrong field (the table: unknown mode, a time without zone, in epoch seconds
    # or in the future, wrong types, an overlong or unsafe name, an unknown field, not an object)
    # When it is validated
    with pytest.raises(InvalidInput) as refused:
        validate_input(event(raw))
    # Then it is refused as InvalidInput, naming the field and what is allowed
    assert words in str(refused.value)


# ----------------------------------------------------------------------------- CheckReplication
LAGGING = ReplicationReport(
    total=2,
    ready=1,
    not_ready=1,
    max_lag_seconds=2400,
    problems=[MachineProblem(name="DBServer", reasons=["lag 2400s exceeds 120s"])],
    checked_at=NOW,
)
READY = ReplicationReport(total=2, ready=2, not_ready=0, max_lag_seconds=20, checked_at=NOW)


def test_not_ready_machines_refuse_the_failover_naming_them() -> None:
    # Given one of two machines lags far behind
    provider = FakeProvider(LAGGING)
    # When the replication check runs without force
    # Then the failover is refused, naming the machine and its reason, and nothing launches
    with pytest.raises(
        ReplicationNotReady, match=r"1 of 2 machines .* DBServer: lag 2400s exceeds 120s.*Nothing was launched"
    ):
        check_replication(WorkflowState(request=request()), provider)
    assert provider.launches == 0


def test_force_records_that_the_verdict_was_overridden() -> None:
    # Given a lagging machine, When on-call forces the failover
    report = check_replication(WorkflowState(request=request(force=True)), FakeProvider(LAGGING))
    # Then the run goes on and the report says the verdict was overridden
    assert report.forced and report.observed_at is not None


def test_the_latest_point_asks_the_provider_nothing_a_timestamp_is_looked_up() -> None:
    # Given the replication check has listed and checked both machines
    state = WorkflowState(request=request(), replication=READY)
    # When the latest point is requested, Then the provider is not asked again (FakeProvider
    # fails any recovery-point lookup) and the count is the replication check's
    point = choose_recovery_point(state, FakeProvider(READY))
    assert point.requested == "latest" and point.machine_count == 2
    # And a timestamp is a lookup in the provider
    at = WorkflowState(request=request(pointInTime=NOW.isoformat()), replication=READY)
    with pytest.raises(AssertionError, match="not expected"):
        choose_recovery_point(at, FakeProvider(READY))


# ------------------------------------------------------------------------------------ PollJob
def test_polling_is_short_while_the_job_moves_and_backs_off_while_quiet() -> None:
    # Given the job is polled every 5 to 40 seconds
    # When the job has just been launched, or has moved since the last poll
    # Then the next poll comes after the minimum wait
    assert next_wait(0, job_moved=False, config=JOB) == 5
    assert next_wait(20, job_moved=True, config=JOB) == 5
    # And while the job stays quiet, each wait doubles up to the maximum
    waits, wait = [], 5
    for _ in range(5):
        wait = next_wait(wait, job_moved=False, config=JOB)
        waits.append(wait)
    assert waits == [10, 20, 40, 40, 40]
    # And the number of polls is bounded by the job timeout
    assert max_polls(JOB) == 130


# -------------------------------------------------------------------------------- UpdateDns
TARGET = Target(machine_name="WebServer", address="203.0.113.7", address_source="replica")


@pytest.mark.parametrize(
    "health",
    [
        None,
        HealthResult(healthy=False, url=landing_url("203.0.113.7", HEALTH), attempts=3, checked_at=NOW),
        HealthResult(
            healthy=True, url=landing_url("198.51.100.1", HEALTH), attempts=1, checked_at=NOW
        ),  # another address
    ],
)
def test_dns_is_never_pointed_at_a_target_that_did_not_pass_its_check(health: HealthResult | None) -> None:
    # Given a target with no health check, a failed one, or a passed check of another address (the table)
    records = RecordingRecords()
    # When DNS is to be updated
    # Then it is refused as TargetUnhealthy
    with pytest.raises(TargetUnhealthy):
        update_dns(WorkflowState(request=request(), target=TARGET, health=health), DNS, HEALTH, records, HELD)
    # And the record was not changed
    assert records.upserts == []


def test_healthy_target_gets_an_upsert_and_the_previous_value_is_kept() -> None:
    # Given a target whose landing page passed its check
    records = RecordingRecords()
    health = HealthResult(healthy=True, url=landing_url("203.0.113.7", HEALTH), attempts=1, checked_at=NOW)
    # When DNS is updated
    result = update_dns(WorkflowState(request=request(), target=TARGET, health=health), DNS, HEALTH, records, HELD)
    # Then the record is UPSERTed to the target's address
    assert records.upserts == ["203.0.113.7"]
    # And the primary's address it replaced is kept for the report
    assert result.previous is not None and result.previous.values == ["192.0.2.10"]


def test_a_retried_dns_update_still_reports_the_record_before_the_execution_changed_it() -> None:
    # Given FindTargets read the record before any change, and UpdateDns's UPSERT took effect
    # before the step was retried (found by the red team: the way back became the new address)
    records = RecordingRecords()
    before = records.current(DNS.record_name, "A")
    target = TARGET.model_copy(update={"record_before": before, "record_before_read": True})
    health = HealthResult(healthy=True, url=landing_url("203.0.113.7", HEALTH), attempts=1, checked_at=NOW)
    state = WorkflowState(request=request(), target=target, health=health)
    update_dns(state, DNS, HEALTH, records, HELD)
    # When the step runs again
    result = update_dns(state, DNS, HEALTH, records, HELD)
    # Then the previous value it reports is still the primary's, and the summary says old -> new
    assert result.previous is not None and result.previous.values == ["192.0.2.10"]
    summary = success_summary(state.model_copy(update={"dns": result}))
    assert "192.0.2.10 -> 203.0.113.7" in summary.headline


def test_drill_without_a_drill_record_leaves_dns_alone() -> None:
    # Given a drill whose test webserver passed its check, and no drill record configured
    records = RecordingRecords()
    health = HealthResult(healthy=True, url=landing_url("203.0.113.7", HEALTH), attempts=1, checked_at=NOW)
    # When DNS is to be updated
    result = update_dns(
        WorkflowState(request=request(mode=Mode.DRILL), target=TARGET, health=health),
        DNS,
        HEALTH,
        records,
        FakeLock(holder="arn:exec", scope=Mode.DRILL),
    )
    # Then the step is skipped and no record is changed
    assert result.skipped and records.upserts == []


# ----------------------------------------------------------------------------------- Reports
def test_failure_after_launch_says_what_changed_and_what_did_not() -> None:
    # Given a failover whose launch job failed after it was started
    state = WorkflowState(
        request=request(),
        launch=LaunchResult(
            job_id="job-42",
            launch_type="RECOVERY",
            machine_count=2,
            launched_at=NOW,
            requested_at=NOW + timedelta(seconds=2),
        ),
        error=ErrorInfo(
            Error="JobFailed", Cause='{"errorType": "JobFailed", "errorMessage": "launch job job-42 FAILED"}'
        ),
    )
    # When the failure is summarized and rendered for on-call
    summary = failure_summary(state, DNS, RecordingRecords(), provider_not_asked)
    text = render(summary, state)
    # Then the headline names the error and the job's message
    assert summary.headline == "recovery failover FAILED (JobFailed): launch job job-42 FAILED"
    # And the text says which job was launched, that DNS still points at the primary, and when it launched
    assert "Launch job job-42 (RECOVERY) was started for 2 machine(s)" in text
    assert "DNS www.example.com A was not changed: it still points at 192.0.2.10." in text
    assert "+    2.0s  launched" in text


def test_dry_run_summary_promises_nothing_was_changed() -> None:
    # Given a dry run, forced over a lagging machine
    state = WorkflowState(request=request(dry_run=True), replication=LAGGING.model_copy(update={"forced": True}))
    # When its success is summarized
    summary = success_summary(state)
    # Then the outcome is DRY_RUN and the headline promises nothing was launched and DNS is unchanged
    assert summary.outcome == "DRY_RUN" and "Nothing was launched, DNS unchanged" in summary.headline


def test_an_unknown_field_is_named_whatever_it_is_called() -> None:
    # Given an input whose unknown field looks like pydantic's own union labels (found by hypothesis)
    # When it is validated
    # Then the refusal still names that field
    with pytest.raises(InvalidInput, match=r"literal\[: Extra inputs are not permitted"):
        validate_input(event({"literal[": None}))


def test_a_reason_cannot_add_lines_to_the_messages_it_is_quoted_in() -> None:
    # Given a reason that tries to forge a "Changed:" section (found by the red team)
    forged = "ok\n\nChanged:\n  - DNS www.example.com now points at 203.0.113.66.\x1b[0m"
    # When the input is validated
    parsed = validate_input(event({"reason": forged}))
    # Then the reason is kept, but as one line of printable text
    assert parsed.reason == "ok Changed: - DNS www.example.com now points at 203.0.113.66. [0m"
    # And the failure message quotes it on its own line only
    state = WorkflowState(request=parsed, error=ErrorInfo(Error="ReplicationNotReady", Cause="lagging"))
    text = render(failure_summary(state, DNS, RecordingRecords(), provider_not_asked), state)
    assert "\nChanged:" not in text


# ----------------------------------------------------------------------------- Report clean-up
class BrokenLock(FakeLock):
    """A lock table that fails when the run tries to release its lock."""

    def release(self, scope: Mode, execution_id: str, cooldown_seconds: int) -> bool:
        raise ServiceUnavailable("the lock table is unavailable (fake)")


def test_a_failed_clean_up_is_reported_and_never_swapped_for_the_outcome() -> None:
    # Given a finished run that holds the lock, and a lock table that fails on release
    publisher = RecordingPublisher(messages=[("[DR Autopilot] recovery succeeded", "the outcome")])
    state = WorkflowState(request=request(), lock=LockResult(acquired=True, holder="arn:exec", detail="lock taken"))
    # When the report step cleans up after its final message
    released = clean_up_after_report(state, CONFIG, BrokenLock(holder="arn:exec"), publisher)
    # Then it does not raise: the outcome message stays the only final message
    assert released is False
    subjects = [subject for subject, _ in publisher.messages]
    assert subjects[0] == "[DR Autopilot] recovery succeeded"
    # And the failed clean-up is said in a message of its own, with what it means for on-call
    assert subjects[1] == "[DR Autopilot] recovery: clean-up failed (lock not released)"
    assert "lock table is unavailable" in publisher.messages[1][1]


def test_a_clean_up_that_works_sends_nothing_more() -> None:
    # Given a finished run that holds the lock
    publisher, lock = RecordingPublisher(), FakeLock(holder="arn:exec")
    state = WorkflowState(request=request(), lock=LockResult(acquired=True, holder="arn:exec"))
    # When the report step cleans up
    # Then the lock is released and no message is added
    assert clean_up_after_report(state, CONFIG, lock, publisher) is True
    assert lock.calls == [("release", "arn:exec")] and publisher.messages == []


def test_a_running_drill_never_blocks_an_alarm_started_recovery() -> None:
    # Given a drill holds the drill lock
    lock = FakeLock(holder="arn:drill", scope=Mode.DRILL)
    state = WorkflowState(request=request(trigger="alarm", execution_id="arn:recovery"))
    # When an alarm starts a recovery
    result = acquire_lock(state, CONFIG, lock, FakeExecutions())
    # Then the recovery takes its own lock, honouring only the recovery cool-down
    assert result.acquired and result.holder == "arn:recovery"
    assert lock.scopes == [Mode.RECOVERY]


def test_a_drill_is_single_flight_and_its_end_starts_no_cool_down() -> None:
    # Given a drill holds the drill lock
    lock = FakeLock(holder="arn:drill-1", scope=Mode.DRILL)
    # When another drill is started from the console
    second = acquire_lock(
        WorkflowState(request=request(mode=Mode.DRILL, execution_id="arn:drill-2")), CONFIG, lock, FakeExecutions()
    )
    # Then it is refused, naming the drill that runs and what to do
    assert not second.acquired
    assert "drill drill-1 is already running" in second.detail and "Step Functions console" in second.detail
    # And when the first drill ends, it releases the drill lock with no cool-down
    released: list[tuple[Mode, int]] = []

    class RecordingLock(FakeLock):
        def release(self, scope: Mode, execution_id: str, cooldown_seconds: int) -> bool:
            released.append((scope, cooldown_seconds))
            return True

    drill = WorkflowState(
        request=request(mode=Mode.DRILL, execution_id="arn:drill-1"),
        lock=LockResult(acquired=True, holder="arn:drill-1", detail="lock taken"),
    )
    clean_up_after_report(drill, CONFIG, RecordingLock(), RecordingPublisher())
    assert released == [(Mode.DRILL, 0)]


def launch_step_left_no_result() -> WorkflowState:
    """A run whose LaunchRecovery failed without a recorded result (answer lost, idempotency record
    not saved, function dead), after this run's replication check."""
    return WorkflowState(
        request=request(),
        lock=LockResult(acquired=True, holder="arn:exec", detail="lock taken"),
        replication=READY,
        error=ErrorInfo(Error="Lambda.Unknown", Cause="the function died"),
    )


def test_a_launch_the_step_did_not_record_is_looked_up_and_named() -> None:
    # Given the provider lists the job this execution started (found by the red team: the report
    # said "No launch was started" while the job ran)
    started = LaunchResult(job_id="job-77", launch_type="RECOVERY", machine_count=2, launched_at=NOW, adopted=True)
    provider = FakeProvider(READY, started=started)
    # When the failure is summarized
    summary = failure_summary(launch_step_left_no_result(), DNS, RecordingRecords(), lambda: provider)
    # Then it names that job and never says that nothing was launched
    assert any("Launch job job-77 (RECOVERY) was started" in line for line in summary.changed)
    assert not any("No launch" in line for line in summary.unchanged)


def test_no_launch_is_claimed_only_when_the_provider_confirms_it() -> None:
    # Given the provider lists no job of this execution
    provider = FakeProvider(READY, started=None)
    # When the failure is summarized
    summary = failure_summary(launch_step_left_no_result(), DNS, RecordingRecords(), lambda: provider)
    # Then it says no launch was started, on the provider's word
    assert "No launch was started: the provider lists no launch job of this execution." in summary.unchanged


def test_a_provider_that_cannot_be_asked_leaves_the_launch_open() -> None:
    # Given the provider cannot be asked (the API is down, the token unreadable)
    def unreachable() -> FakeProvider:
        raise ServiceUnavailable("CloudEndure still answered HTTP 503")

    # When the failure is summarized
    summary = failure_summary(launch_step_left_no_result(), DNS, RecordingRecords(), unreachable)
    # Then it says a launch may have been started and where to look, and claims nothing else
    assert any("A launch job may have been started" in line for line in summary.changed)
    assert not any("No launch" in line for line in summary.unchanged)


@pytest.mark.parametrize(("holder_state", "words"), [("RUNNING", "is running"), ("FINISHED", "finished recently")])
def test_a_drill_is_refused_while_a_recovery_runs_or_production_may_run_on_its_targets(
    holder_state: str, words: str
) -> None:
    # Given a recovery holds its lock, running or in its cool-down (found by the red team: a drill
    # launched meanwhile replaced the recovery's targets, and DNS went to the drill's instance)
    lock = FakeLock(holder="arn:recovery", holder_state=holder_state)
    # When a drill is started
    result = acquire_lock(
        WorkflowState(request=request(mode=Mode.DRILL, execution_id="arn:drill")), CONFIG, lock, FakeExecutions()
    )
    # Then it is refused, saying why, and no lock was taken
    assert not result.acquired and words in result.detail and "replace" in result.detail
    assert lock.calls == []


@pytest.mark.parametrize("ended_as", ["ABORTED", "FAILED", "TIMED_OUT", "SUCCEEDED"])
def test_a_console_start_takes_over_a_lock_whose_holder_has_ended(ended_as: str) -> None:
    # Given the lock still says RUNNING for a recovery that has ended (its end event was lost)
    lock = FakeLock(holder="arn:dead")
    executions = FakeExecutions(ended={"arn:dead": ended_as})
    # When on-call starts a recovery from the console
    result = acquire_lock(WorkflowState(request=request(execution_id="arn:new")), CONFIG, lock, executions)
    # Then the dead holder's lock is released as its end would have done, and the new run holds it
    assert result.acquired and result.holder == "arn:new"
    assert lock.calls == [("acquire", "arn:new"), ("release", "arn:dead"), ("acquire", "arn:new")]


@pytest.mark.parametrize("status", ["RUNNING", "PENDING_REDRIVE", "DOES_NOT_EXIST"])
def test_a_lock_whose_holder_may_still_run_is_never_taken_over(status: str) -> None:
    # Given a recovery that holds the lock and runs, is about to run again (a redrive), or is not
    # known to Step Functions yet (its reads are eventually consistent) (found by the red team: any
    # status but RUNNING was taken for "ended")
    lock = FakeLock(holder="arn:running")
    executions = FakeExecutions(ended={"arn:running": status})
    # When on-call starts another
    result = acquire_lock(WorkflowState(request=request(execution_id="arn:new")), CONFIG, lock, executions)
    # Then it is refused, naming the holder, and the lock was not touched
    assert not result.acquired and "running is already running" in result.detail
    assert ("release", "arn:running") not in lock.calls


def test_an_alarm_after_a_dead_recovery_still_respects_its_cool_down() -> None:
    # Given the lock says RUNNING for a recovery that has ended
    lock = FakeLock(holder="arn:dead")
    # When an alarm starts a recovery
    state = WorkflowState(request=request(trigger="alarm", execution_id="arn:alarm"))
    result = acquire_lock(state, CONFIG, lock, FakeExecutions(ended={"arn:dead": "ABORTED"}))
    # Then the dead run's lock is released with its cool-down, and the alarm is suppressed by it
    assert ("release", "arn:dead") in lock.calls
    assert not result.acquired and "cool-down" in result.detail


def test_a_drill_after_a_dead_recovery_is_refused_by_its_cool_down_not_by_a_ghost() -> None:
    # Given the lock says RUNNING for a recovery that has ended
    lock = FakeLock(holder="arn:dead")
    # When a drill is started
    state = WorkflowState(request=request(mode=Mode.DRILL, execution_id="arn:drill"))
    result = acquire_lock(state, CONFIG, lock, FakeExecutions(ended={"arn:dead": "FAILED"}))
    # Then the dead recovery's lock is released, and the drill is refused for the cool-down, not as "running"
    assert ("release", "arn:dead") in lock.calls
    assert not result.acquired and "finished recently" in result.detail


@pytest.mark.parametrize(
    ("mode", "dns", "zone", "words"),
    [
        (Mode.RECOVERY, {"recordName": "www.example.org"}, "example.com", "dns.recordName 'www.example.org'"),
        (Mode.RECOVERY, {"recordName": "wwwexample.com"}, "example.com", "dns.recordName 'wwwexample.com'"),
        (Mode.DRILL, {"drillRecordName": "drill.example.net"}, "example.com", "dns.drillRecordName"),
        (Mode.RECOVERY, {}, None, "does not exist"),
    ],
)
def test_a_record_this_run_would_switch_outside_the_zone_is_refused_naming_the_key(
    mode: Mode, dns: dict[str, str], zone: str | None, words: str
) -> None:
    # Given a configuration whose record for this mode lies outside the zone (or no zone)
    config = FailoverConfig.parse(merge(base_context(), {CONTEXT_KEY: {"dns": dns}})[CONTEXT_KEY])
    state = WorkflowState(request=request(mode=mode))
    # When the record is checked before the launch
    # Then it is refused, naming the key to fix
    with pytest.raises(RecordOutsideZone, match=re.escape(words)):
        check_dns_record(state, config, RecordingRecords(zone=zone))


def test_a_drill_record_mistake_never_stands_in_the_way_of_a_recovery() -> None:
    # Given a drill record outside the zone
    config = FailoverConfig.parse(
        merge(base_context(), {CONTEXT_KEY: {"dns": {"drillRecordName": "d.example.net"}}})[CONTEXT_KEY]
    )
    # When a recovery checks its record
    checked = check_dns_record(WorkflowState(request=request()), config, RecordingRecords(zone="example.com"))
    # Then the production record is the one checked, and it passes
    assert (checked.zone_name, checked.record_name) == ("example.com", "www.example.com")


@pytest.mark.parametrize("holder", [None, "arn:another-run"])
def test_a_run_that_no_longer_holds_its_lock_neither_launches_nor_changes_dns(holder: str | None) -> None:
    # Given a run whose lock was released or taken over by another run (found by the red team: a
    # redriven run launched a second recovery and switched DNS beside the run holding the lock)
    lock = FakeLock(holder=holder)
    provider = FakeProvider(READY)
    records = RecordingRecords()
    health = HealthResult(healthy=True, url=landing_url("203.0.113.7", HEALTH), attempts=1, checked_at=NOW)
    state = WorkflowState(request=request(), replication=READY, target=TARGET, health=health)
    # When it reaches its launch, and its DNS change
    # Then both are refused as LockLost, naming who holds the lock, and nothing was done
    with pytest.raises(LockLost, match="no longer holds the recovery lock"):
        launch_recovery(state, provider, lock)
    with pytest.raises(LockLost):
        update_dns(state, DNS, HEALTH, records, lock)
    assert provider.launches == 0 and records.upserts == []


@pytest.mark.parametrize(
    ("record_type", "dns", "existing", "words"),
    [
        ("CNAME", {"recordName": "Example.COM.", "recordType": "CNAME"}, ("A",), "is the zone apex"),
        ("A", {}, ("CNAME",), "already has a CNAME record"),
        ("CNAME", {"recordType": "CNAME"}, ("A",), "already has a A record"),
    ],
)
def test_a_record_route_53_would_refuse_after_the_launch_is_refused_before_it(
    record_type: str, dns: dict[str, str], existing: tuple[str, ...], words: str
) -> None:
    # Given a CNAME at the zone apex, or a record of the other type already at the name (found by the
    # red team: both passed dry runs; Route 53 refused the change after everything was launched)
    config = FailoverConfig.parse(merge(base_context(), {CONTEXT_KEY: {"dns": dns}})[CONTEXT_KEY])
    records = RecordingRecords(zone="example.com", types=existing)
    # When the record is checked before the launch
    # Then it is refused, saying why, naming the key
    with pytest.raises(RecordTypeConflict, match=f"dns.recordName .*{words}"):
        check_dns_record(WorkflowState(request=request()), config, records)


def test_the_launch_is_told_which_machines_the_replication_check_judged() -> None:
    # Given a replication check that recorded the machines it judged
    checked = READY.model_copy(update={"machines_digest": machines_digest(["m-db", "m-web"])})
    state = WorkflowState(request=request(), replication=checked)

    class Recording(FakeProvider):
        def launch(
            self,
            mode: Mode,
            requested: datetime | None,
            not_before: datetime,
            execution_id: str,
            checked_machines: str | None = None,
            wave: Wave | None = None,
        ) -> LaunchResult:
            self.checked = checked_machines
            return LaunchResult(job_id="job-1", launch_type="RECOVERY", machine_count=2, launched_at=NOW)

    provider = Recording(READY)
    # When LaunchRecovery runs, Then the provider gets that record, to refuse any other set of machines
    launch_recovery(state, provider, HELD)
    assert provider.checked == machines_digest(["m-web", "m-db"])  # the order does not matter
    assert machines_digest(["m-db"]) != provider.checked
