"""Continuous readiness in the functions: its configuration, its input, its verdict and where the
verdict is kept (the logic over fakes; the record over moto's DynamoDB)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest
from dr_autopilot.clients.lock import LOCK_IDS, DynamoDbReadinessRecord
from dr_autopilot.config import CONTEXT_KEY, ConfigError, FailoverConfig
from dr_autopilot.errors import InvalidInput, ReplicationNotReady, ServiceUnavailable
from dr_autopilot.logic.check_replication import check_replication
from dr_autopilot.logic.lock import acquire_lock
from dr_autopilot.logic.readiness import keep_verdict, readiness_verdict
from dr_autopilot.logic.report import failure_summary, render, success_summary
from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import ErrorInfo, Mode, ReadinessVerdict, WorkflowState
from moto import mock_aws

from local.environment import base_context, merge
from tests.fakes import NOW, FakeExecutions, FakeLock, FakeProvider, RecordingRecords, provider_not_asked
from tests.unit.test_logic import LAGGING, READY, event, request


def config(readiness: object) -> FailoverConfig:
    return FailoverConfig.parse(merge(base_context(), {CONTEXT_KEY: {"readiness": readiness}})[CONTEXT_KEY])


# ------------------------------------------------------------------------------ configuration
def test_readiness_is_on_hourly_unless_configured_otherwise() -> None:
    # Given cdk.json's configuration without a readiness section, and with one
    without = base_context()[CONTEXT_KEY]
    without.pop("readiness", None)
    # When each is parsed
    # Then the default is a run every 60 minutes, and the settings are read as given
    assert FailoverConfig.parse(without).readiness.enabled is True
    assert FailoverConfig.parse(without).readiness.rate_minutes == 60
    assert config({"enabled": False, "rateMinutes": 15}).readiness.rate_minutes == 15
    assert config({"enabled": False}).readiness.enabled is False


@pytest.mark.parametrize(
    ("readiness", "named"),
    [
        ({"rateMinutes": 4}, "drAutopilot.readiness.rateMinutes"),
        ({"rateMinutes": 721}, "drAutopilot.readiness.rateMinutes"),
        ({"rateMinutes": "60"}, "drAutopilot.readiness.rateMinutes"),
        ({"rateMinutes": 60.0}, "drAutopilot.readiness.rateMinutes"),
        ({"enabled": "false"}, "drAutopilot.readiness.enabled"),
        ({"enabled": 0}, "drAutopilot.readiness.enabled"),
        ({"rate": 60}, "drAutopilot.readiness.rate"),
    ],
)
def test_a_bad_readiness_setting_is_refused_naming_it(readiness: dict[str, Any], named: str) -> None:
    # Given one wrong readiness setting (out of bounds, text or a float for minutes, a number for
    # a boolean, an unknown key)
    # When the configuration is parsed
    # Then it is refused, naming the key
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        config(readiness)


# ------------------------------------------------------------------------------- input contract
@pytest.mark.parametrize(
    "raw",
    [
        {"readiness": True},
        {"readiness": True, "dryRun": False},
        {"readiness": True, "dryRun": True, "force": True},
        {"readiness": True, "dryRun": True, "mode": "drill"},
        {"readiness": "true", "dryRun": True},
        {"readiness": 1, "dryRun": True},
        {"readiness": True, "dryRun": True, "alarm": {"name": "www-example-com-down"}},
    ],
)
def test_readiness_is_only_a_dry_run_of_an_unforced_recovery(raw: dict[str, object]) -> None:
    # Given a readiness input that is not a dry run, is forced, is a drill or is not a boolean
    # When it is validated
    # Then it is refused before anything else happens, naming the field
    with pytest.raises(InvalidInput, match=r"readiness: "):
        validate_input(event(raw))


def test_a_readiness_run_is_a_dry_run_of_a_recovery() -> None:
    # Given the input the schedule sends
    # When it is validated
    parsed = validate_input(event({"dryRun": True, "readiness": True, "requestedBy": "readiness-schedule"}))
    # Then it is a readiness dry run of a recovery, from the latest point
    assert parsed.readiness and parsed.dry_run and not parsed.force
    assert parsed.mode is Mode.RECOVERY and parsed.point_in_time is None


# ------------------------------------------------------------------------------------ verdict
def readiness_state(**changes: object) -> WorkflowState:
    return WorkflowState.model_validate({"request": request(dry_run=True, readiness=True).model_dump(), **changes})


def test_a_readiness_run_takes_no_lock_and_so_never_blocks_a_failover() -> None:
    # Given a lock table where nobody holds the lock
    lock = FakeLock()
    # When a readiness run reaches AcquireLock
    result = acquire_lock(readiness_state(), base_config(), lock, FakeExecutions())
    # Then it goes on without taking the lock (a failover starting now takes it)
    assert result.acquired and result.holder is None
    assert lock.calls == [] and lock.peek(Mode.RECOVERY) is None


def base_config() -> FailoverConfig:
    return FailoverConfig.parse(base_context()[CONTEXT_KEY])


def test_lagging_machines_do_not_stop_a_readiness_run_but_make_it_not_ready() -> None:
    # Given one of two machines lags far behind
    # When a failover checks replication, it is refused
    with pytest.raises(ReplicationNotReady):
        check_replication(WorkflowState(request=request()), FakeProvider(LAGGING))
    # When a readiness run checks it, the run goes on to the other checks with the verdict recorded
    report = check_replication(readiness_state(), FakeProvider(LAGGING))
    assert report.not_ready == 1 and not report.forced
    # And its summary is NOT_READY, naming the lagging machine and its lag
    summary = success_summary(readiness_state(replication=report.model_dump()))
    assert summary.outcome == "NOT_READY"
    assert summary.readiness is not None and not summary.readiness.ready
    assert summary.readiness.ready_machines == 1 and summary.readiness.max_lag_seconds == 2400
    assert "DBServer: lag 2400s exceeds 120s" in summary.headline
    # And the message says so, and that nothing was launched or changed and no lock taken
    text = render(summary, readiness_state(replication=report.model_dump()))
    assert "DBServer: lag 2400s exceeds 120s" in text
    assert "No launch was started." in text and "DNS was not changed." in text and "No lock was taken" in text


def test_a_readiness_run_whose_checks_all_pass_is_ready() -> None:
    # Given every machine ready and every check passed
    state = readiness_state(replication=READY.model_dump())
    # When it is summarized
    summary = success_summary(state)
    # Then it is READY, with every machine counted and no reason against it
    assert summary.outcome == "READY" and summary.readiness is not None
    assert summary.readiness.ready and summary.readiness.reasons == []
    assert (summary.readiness.ready_machines, summary.readiness.total_machines) == (2, 2)


def test_a_check_that_failed_makes_a_readiness_run_not_ready_naming_the_check() -> None:
    # Given a readiness run whose record check refused the configured record
    state = readiness_state(
        replication=READY.model_dump(),
        error=ErrorInfo(Error="RecordOutsideZone", Cause='{"errorMessage": "dns.recordName is not in the zone"}'),
    )
    # When ReportFailure summarizes it
    summary = failure_summary(state, base_config().dns, RecordingRecords(), provider_not_asked)
    # Then it is a NOT_READY verdict naming the error, not a failed failover
    assert summary.outcome == "NOT_READY" and summary.readiness is not None
    assert summary.readiness.reasons == ["RecordOutsideZone: dns.recordName is not in the zone"]
    # And an end the run could not report itself (timed out) stays what it was
    assert failure_summary(state, base_config().dns, RecordingRecords(), provider_not_asked, "TIMED_OUT").outcome == (
        "TIMED_OUT"
    )


def test_a_provider_that_cannot_be_asked_is_not_ready_with_nothing_measured_but_the_verdict() -> None:
    # Given a readiness run whose replication check failed (the provider kept failing)
    state = readiness_state(error=ErrorInfo(Error="ServiceUnavailable", Cause="CloudEndure answered 503"))
    # When its verdict is reached
    verdict = readiness_verdict(state, ("ServiceUnavailable", "CloudEndure answered 503"))
    # Then it is not ready, and machine counts it did not measure are left out, not written as 0
    assert not verdict.ready and verdict.ready_machines is None and verdict.max_lag_seconds is None


# ------------------------------------------------------------------------------ kept verdict
class BrokenRecord:
    def record(self, verdict: ReadinessVerdict) -> bool:
        raise ServiceUnavailable("table down")

    def last(self) -> ReadinessVerdict | None:
        return None


def test_a_table_that_is_down_does_not_turn_a_verdict_into_a_failed_run() -> None:
    # Given a verdict and a table that is down
    verdict = readiness_verdict(readiness_state(replication=READY.model_dump()))
    # When it is kept, Then nothing is raised (the message and metrics carry the verdict)
    keep_verdict(verdict, BrokenRecord())


@mock_aws
def test_the_last_verdict_is_kept_apart_from_the_locks_and_an_older_one_never_replaces_it() -> None:
    # Given the lock table, a recovery lock held, and two verdicts an hour apart
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    dynamodb.create_table(
        TableName="locks",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="locks", Item={"id": {"S": LOCK_IDS[Mode.RECOVERY]}, "holder": {"S": "arn:failover"}})
    record = DynamoDbReadinessRecord("locks", dynamodb)
    assert record.last() is None
    earlier = readiness_verdict(readiness_state(replication=LAGGING.model_dump()))
    later = earlier.model_copy(
        update={"ready": True, "reasons": [], "checked_at": earlier.checked_at + timedelta(hours=1)}
    )
    # When the later one is kept, and then the earlier one arrives late
    assert record.record(later)
    assert not record.record(earlier)
    # Then the later verdict is the last one, and the recovery lock is untouched
    assert record.last() == later
    item = dynamodb.get_item(TableName="locks", Key={"id": {"S": LOCK_IDS[Mode.RECOVERY]}})["Item"]
    assert item["holder"]["S"] == "arn:failover"
    assert later.checked_at > NOW


def test_a_verdict_is_dated_when_the_site_was_seen_not_when_it_was_reported() -> None:
    # Given a readiness run that saw the site at NOW and reported it much later (found by the red
    # team: a slow READY run's verdict replaced a later NOT READY one)
    seen = READY.model_copy(update={"observed_at": NOW})
    state = WorkflowState(
        request=request(dry_run=True, readiness=True, started_at=NOW - timedelta(minutes=1)), replication=seen
    )
    # When its verdict is made
    verdict = readiness_verdict(state)
    # Then it carries the moment of the observation
    assert verdict.checked_at == NOW
