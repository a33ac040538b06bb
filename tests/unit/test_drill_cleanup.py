"""CleanUpDrill's logic over its ports: what is put back, what is left alone, and when it waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest
from dr_autopilot.config import CONTEXT_KEY, ConfigError, FailoverConfig
from dr_autopilot.errors import CleanupPending, DnsRecordChanged, DnsThrottled, MissingStepResult
from dr_autopilot.logic.clean_up_drill import WAIT_SECONDS, clean_up_drill
from dr_autopilot.logic.report import success_summary
from dr_autopilot.models import DnsResult, FailoverRequest, LaunchResult, Mode, RecordValue, WorkflowState
from dr_autopilot.ports import DrillCleanup

from local.environment import base_context, merge
from tests.fakes import NOW

DRILL = "drill.example.com"
OURS = RecordValue(name=DRILL, type="A", values=["203.0.113.5"], ttl=60)
BEFORE = RecordValue(name=DRILL, type="A", values=["198.51.100.7"], ttl=300)
LAUNCH = LaunchResult(job_id="job-1", launch_type="TEST", machine_count=2, launched_at=NOW)


def state(mode: Mode = Mode.DRILL, previous: RecordValue | None = None, switched: bool = True) -> WorkflowState:
    request = FailoverRequest(
        mode=mode,
        force=False,
        dry_run=False,
        requested_by="bob",
        reason="",
        trigger="console",
        execution_id="arn:exec",
        execution_name="exec-1",
        started_at=NOW,
    )
    dns = DnsResult(previous=previous, current=OURS) if switched else DnsResult(skipped=True, detail="no drill record")
    return WorkflowState(
        request=request, launch=LAUNCH, dns=dns, hold={"endedBy": "carol with dr-autopilot drill-cleanup"}
    )


@dataclass
class Zone:
    """The drill record as it is now (None: absent); a restore is refused unless it is `expected`."""

    now: RecordValue | None
    restores: list[tuple[RecordValue, RecordValue | None]] = field(default_factory=list)
    changed_meanwhile: bool = False

    def current(self, name: str, record_type: str) -> RecordValue | None:
        return self.now

    def restore(self, ours: RecordValue, previous: RecordValue | None, comment: str) -> str:
        if self.changed_meanwhile:
            raise DnsRecordChanged("someone was faster")
        self.restores.append((ours, previous))
        self.now = previous
        return "change-2"

    def zone_name(self) -> str | None:
        return "example.com"

    def upsert(self, name: str, record_type: str, value: str, ttl: int, comment: str) -> str:
        raise AssertionError("a clean-up never UPSERTs")

    def wait_insync(self, change_id: str, timeout_seconds: float) -> datetime:
        raise AssertionError("not expected")


class Provider:
    """Terminates in `passes` looks: pending until then."""

    def __init__(self, passes: int = 1, left_alone: list[str] | None = None) -> None:
        self.passes = passes
        self.calls = 0
        self.left_alone = left_alone or []

    def clean_up_drill(self, launch: LaunchResult) -> DrillCleanup:
        self.calls += 1
        done = self.calls >= self.passes
        instances = ["DBServer: i-1", "WebServer: i-2"]
        return DrillCleanup(
            terminated=instances if done else [],
            pending=[] if done else instances,
            left_alone=self.left_alone,
            jobs=["terminate-1"],
        )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def clean(state: WorkflowState, provider: Provider, zone: Zone, clock: Clock | None = None):  # type: ignore[no-untyped-def]
    clock = clock or Clock()
    return clean_up_drill(state, provider, zone, sleep=clock.sleep, clock=clock)  # type: ignore[arg-type]


def test_a_drill_record_that_did_not_exist_is_removed_and_the_instances_terminated() -> None:
    # Given a drill that created the drill record, which still holds the drill's value
    zone = Zone(now=OURS)
    # When it is cleaned up
    result = clean(state(previous=None), Provider(), zone)
    # Then the record is deleted as the drill left it, and both instances are terminated
    assert zone.restores == [(OURS, None)] and zone.now is None
    assert result.record.value == "removed" and result.instances_terminated == 2
    assert result.requested_by == "carol with dr-autopilot drill-cleanup"


def test_a_drill_record_that_existed_gets_its_earlier_value_back() -> None:
    zone = Zone(now=OURS)
    result = clean(state(previous=BEFORE), Provider(), zone)
    assert zone.restores == [(OURS, BEFORE)] and result.record.value == "restored"
    assert "198.51.100.7 again" in result.record_detail


@pytest.mark.parametrize("meanwhile", [RecordValue(name=DRILL, type="A", values=["192.0.2.99"], ttl=60), None])
def test_a_drill_record_changed_since_is_left_alone(meanwhile: RecordValue | None) -> None:
    # Given someone pointed the drill record elsewhere (or removed it) after the drill set it
    zone = Zone(now=meanwhile)
    # When the drill is cleaned up
    result = clean(state(previous=BEFORE), Provider(), zone)
    # Then the record is not touched, and the result says why; the instances are still terminated
    assert zone.restores == [] and result.record.value == "changed-since"
    assert "left as it is" in result.record_detail and result.instances_terminated == 2


def test_a_record_changed_between_the_read_and_the_restore_is_left_alone() -> None:
    zone = Zone(now=OURS, changed_meanwhile=True)
    result = clean(state(previous=BEFORE), Provider(), zone)
    assert result.record.value == "changed-since" and zone.now == OURS


def test_a_repeated_clean_up_changes_nothing_twice() -> None:
    # Given a clean-up that already put the record back (its step is retried)
    zone = Zone(now=BEFORE)
    result = clean(state(previous=BEFORE), Provider(), zone)
    # Then nothing is changed again, and the record is reported as restored
    assert zone.restores == [] and result.record.value == "restored"


def test_a_drill_without_a_switched_record_only_terminates() -> None:
    zone = Zone(now=None)
    result = clean(state(switched=False), Provider(), zone)
    assert result.record.value == "not-switched" and zone.restores == []


def test_termination_is_waited_for_then_reported_pending_for_the_retry() -> None:
    # Given instances that terminate on the third look
    clock = Clock()
    provider = Provider(passes=3)
    result = clean(state(), provider, Zone(now=OURS), clock)
    # Then the clean-up looked three times, a few seconds apart, and reports them terminated
    assert provider.calls == 3 and result.instances_terminated == 2 and result.cleanup_jobs == ["terminate-1"]
    # And instances that do not terminate within its wait fail the step with CleanupPending (retried)
    with pytest.raises(CleanupPending, match="still terminating"):
        clean(state(), Provider(passes=10_000), Zone(now=OURS), Clock())
    assert sum(clock.sleeps) < WAIT_SECONDS


@pytest.mark.parametrize("mode", [Mode.RECOVERY])
def test_a_recovery_is_never_cleaned_up(mode: Mode) -> None:
    # Given a recovery's state (its instances are the site now)
    provider = Provider()
    # When the clean-up is asked for it (whatever path led there)
    with pytest.raises(MissingStepResult, match="only drills are cleaned up"):
        clean(state(mode=mode), provider, Zone(now=OURS))
    # Then nothing was asked of the provider
    assert provider.calls == 0


def test_the_summary_lists_what_was_cleaned_up_and_what_was_left() -> None:
    zone = Zone(now=OURS)
    cleaned = state(previous=BEFORE)
    cleaned.cleanup = clean(
        cleaned, Provider(left_alone=["WebServer: i-9 was launched by job job-2, not by this drill"]), zone
    )
    summary = success_summary(cleaned)
    assert "cleaned up: 2 instance(s) terminated, drill record restored" in summary.headline
    assert any("DBServer: i-1, WebServer: i-2" in line for line in summary.changed)
    assert any("Left running, not this drill's: WebServer: i-9" in line for line in summary.unchanged)


@pytest.mark.parametrize(
    ("drill", "words"),
    [
        ({"holdMinutes": -1}, "drAutopilot.drill.holdMinutes"),
        ({"holdMinutes": 1441}, "drAutopilot.drill.holdMinutes"),
        ({"cleanUp": "yes please"}, "drAutopilot.drill.cleanUp"),
        ({"holdMinutes": 1440}, "a drill may need"),  # does not fit in the workflow timeout
        ({"keep": True}, "drAutopilot.drill.keep"),
    ],
)
def test_bad_drill_settings_are_refused_naming_the_field(drill: dict[str, object], words: str) -> None:
    raw = merge(base_context()[CONTEXT_KEY], {"drill": drill})
    with pytest.raises(ConfigError, match=words.replace(".", r"\.")):
        FailoverConfig.parse(raw)


def test_route53_throttling_the_restore_is_waited_out_then_reported() -> None:
    # Given Route 53 throttles the restore twice, then takes it
    class Throttling(Zone):
        refusals = 2

        def restore(self, ours: RecordValue, previous: RecordValue | None, comment: str) -> str:
            if self.refusals:
                self.refusals -= 1
                raise DnsThrottled("slow down")
            return super().restore(ours, previous, comment)

    zone = Throttling(now=OURS)
    clock = Clock()
    result = clean(state(previous=None), Provider(), zone, clock)
    # Then the record was removed after two pauses
    assert result.record.value == "removed" and clock.sleeps[-2:] == [2, 4]
    # And when Route 53 never takes it, the instances are still terminated and the record reported
    zone = Throttling(now=OURS)
    zone.refusals = 100
    result = clean(state(previous=None), Provider(), zone)
    assert result.record.value == "not-restored" and result.instances_terminated == 2
    assert "kept throttling" in result.record_detail
