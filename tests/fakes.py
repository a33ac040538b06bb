"""Fakes that satisfy the logic layer's ports (`dr_autopilot.ports`): what the unit tests pass
instead of CloudEndure, Route 53, DynamoDB, SNS and HTTP."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dr_autopilot.errors import NotificationFailed, ServiceUnavailable
from dr_autopilot.logic.final_message import FinalMessenger
from dr_autopilot.models import LaunchResult, Mode, RecordValue, RecoveryPoint, ReplicationReport, Target
from dr_autopilot.ports import Claim, JobSnapshot, LockState, ProbeResult, RecoveryProvider, Wave

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class FakeProvider:
    """A provider that answers the replication check; any other call fails the test."""

    def __init__(self, report: ReplicationReport, started: LaunchResult | None = None) -> None:
        self.report = report
        self.launches = 0
        self.started = started  # the job the provider lists for this execution, if any

    def launch_of_this_execution(self, mode: Mode, not_before: datetime, execution_id: str) -> LaunchResult | None:
        return self.started

    def assess_replication(self) -> ReplicationReport:
        return self.report

    def resolve_recovery_point(self, requested: datetime | None) -> RecoveryPoint:
        raise AssertionError("not expected in this test")

    def launch(
        self,
        mode: Mode,
        requested: datetime | None,
        not_before: datetime,
        execution_id: str,
        checked_machines: str | None = None,
        wave: Wave | None = None,
    ) -> LaunchResult:
        self.launches += 1
        raise AssertionError("not expected in this test")

    def job_snapshot(self, job_id: str, seen: int) -> JobSnapshot:
        raise AssertionError("not expected in this test")

    def find_target(self, launch: LaunchResult, want_dns_name: bool, machine: str | None = None) -> Target:
        raise AssertionError("not expected in this test")


def provider_not_asked() -> RecoveryProvider:
    """For reports whose facts need no provider: asking it fails the test."""
    raise AssertionError("the provider was asked, although this report has all it needs")


class RecordingRecords:
    """A zone (`zone`, None: no such zone) whose record points at the primary; UPSERTs are recorded."""

    def __init__(
        self, primary: str = "192.0.2.10", zone: str | None = "example.com", types: tuple[str, ...] = ("A",)
    ) -> None:
        self.primary = primary
        self.zone = zone
        self.types = types  # the record types that exist at the record's name
        self.upserts: list[str] = []

    def zone_name(self) -> str | None:
        return self.zone

    def current(self, name: str, record_type: str) -> RecordValue | None:
        if record_type not in self.types and not self.upserts:
            return None
        value = self.upserts[-1] if self.upserts else self.primary  # what the last UPSERT left
        return RecordValue(name=name, type=record_type, values=[value], ttl=60)

    def upsert(self, name: str, record_type: str, value: str, ttl: int, comment: str) -> str:
        self.upserts.append(value)
        return "change-1"

    def wait_insync(self, change_id: str, timeout_seconds: float) -> datetime:
        return NOW


@dataclass
class FakeLock:
    """The `scope` lock (a recovery's by default) held by `holder` (None: free); the other scope's
    lock is free. Every call is recorded as (action, execution id), with its scope in `scopes`."""

    holder: str | None = None
    holder_state: str = "RUNNING"
    scope: Mode = Mode.RECOVERY
    calls: list[tuple[str, str]] = field(default_factory=list)
    scopes: list[Mode] = field(default_factory=list)

    def acquire(
        self, scope: Mode, execution_id: str, trigger: str, hold_seconds: int, honour_cooldown: bool
    ) -> LockState:
        self.calls.append(("acquire", execution_id))
        self.scopes.append(scope)
        finished = self.holder_state == "FINISHED" and not honour_cooldown
        if scope is not self.scope or self.holder in (None, execution_id) or finished:
            if scope is self.scope:
                self.holder, self.holder_state = execution_id, "RUNNING"
            return LockState(True, execution_id, "RUNNING", int(time.time()) + hold_seconds, 0)
        return LockState(False, self.holder, self.holder_state, int(time.time()) + 600, 1)

    def release(self, scope: Mode, execution_id: str, cooldown_seconds: int) -> bool:
        self.calls.append(("release", execution_id))
        self.scopes.append(scope)
        if scope is self.scope and self.holder == execution_id:
            self.holder_state = "FINISHED"
        return scope is not self.scope or self.holder == execution_id

    def holds(self, scope: Mode, execution_id: str) -> bool:
        return scope is self.scope and self.holder == execution_id and self.holder_state == "RUNNING"

    def peek(self, scope: Mode) -> LockState | None:
        if scope is not self.scope or self.holder is None:
            return None
        return LockState(False, self.holder, self.holder_state, int(time.time()) + 600, 0)  # held for now


@dataclass
class FakeExecutions:
    """Step Functions' view of executions: each one RUNNING unless `ended` gives its status."""

    ended: dict[str, str] = field(default_factory=dict)

    def status(self, execution_arn: str) -> str:
        return self.ended.get(execution_arn, "RUNNING")


@dataclass
class MemoryLedger:
    """The final-message ledger in memory: `state[execution]` is "SENDING" or "SENT"; a claim never
    goes stale (as if every attempt ran within its time). With `down`, every call fails."""

    down: bool = False
    state: dict[str, str] = field(default_factory=dict)

    def claim(self, execution_id: str, for_seconds: int) -> Claim:
        self._check()
        if execution_id in self.state:
            return Claim.SENT if self.state[execution_id] == "SENT" else Claim.BUSY
        self.state[execution_id] = "SENDING"
        return Claim.CLAIMED

    def sent(self, execution_id: str) -> None:
        self._check()
        self.state[execution_id] = "SENT"

    def unclaim(self, execution_id: str) -> None:
        self._check()
        self.state.pop(execution_id, None)

    def _check(self) -> None:
        if self.down:
            raise ServiceUnavailable("DynamoDB is unavailable (fake)")


def messenger(publisher: RecordingPublisher, ledger: MemoryLedger | None = None) -> FinalMessenger:
    return FinalMessenger(publisher, ledger if ledger is not None else MemoryLedger(), claim_seconds=60)


@dataclass
class RecordingPublisher:
    """The topic: messages are recorded; with `failing`, every publish fails as SNS would."""

    failing: bool = False
    messages: list[tuple[str, str]] = field(default_factory=list)

    def publish(self, subject: str, message: str) -> str:
        if self.failing:
            raise NotificationFailed("SNS is unavailable (fake)")
        self.messages.append((subject, message))
        return f"message-{len(self.messages)}"


@dataclass
class ScriptedProbe:
    """A landing page that answers with `result`; the URLs probed are recorded."""

    result: ProbeResult
    urls: list[str] = field(default_factory=list)

    def __call__(self, url: str, expected_text: str, timeout_seconds: float) -> ProbeResult:
        self.urls.append(url)
        return self.result
