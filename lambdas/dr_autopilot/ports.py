"""The ports of the logic layer: what each state's logic needs from the outside world.

The logic depends on these Protocols only; `dependencies` builds the real adapters (CloudEndure,
Route 53, DynamoDB, SNS, HTTP) from validated settings, and tests pass fakes that satisfy them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from dr_autopilot.models import (
    LaunchResult,
    Mode,
    ProviderJobStatus,
    ReadinessVerdict,
    RecordValue,
    RecoveryPoint,
    ReplicationReport,
    Target,
)


# ------------------------------------------------------------------------- recovery provider
@dataclass(frozen=True)
class JobSnapshot:
    """One look at a launch job. `new_lines` are the log lines after the first `seen` ones."""

    status: ProviderJobStatus
    log_total: int
    new_lines: list[str]
    converters_finished_at: datetime | None
    created_at: datetime
    provider_now: datetime


@dataclass(frozen=True)
class Wave:
    """The machines of one wave of a recovery plan: by name, or (DRS) by tags."""

    index: int
    name: str
    machines: list[str] | None = None
    tags: dict[str, str] | None = None


@dataclass(frozen=True)
class DrillCleanup:
    """One pass of a drill's clean-up at the provider. Instances are named "machine: instance"."""

    terminated: list[str]  # this drill's instances that are gone now (this pass or before)
    pending: list[str]  # this drill's instances whose termination is asked for and not done yet
    left_alone: list[str]  # "machine: why": an instance that is not this drill's any more
    jobs: list[str]  # the provider's clean-up jobs this pass started or found running


class RecoveryProvider(Protocol):
    """What the workflow needs from CloudEndure today and from AWS Elastic Disaster Recovery next."""

    def assess_replication(self) -> ReplicationReport:
        """Verdict for every configured machine (bounded list of problems, counters for the rest)."""
        ...

    def resolve_recovery_point(self, requested: datetime | None) -> RecoveryPoint:
        """Check that every machine has a recovery point for `requested` (None = latest)."""
        ...

    def launch(
        self,
        mode: Mode,
        requested: datetime | None,
        not_before: datetime,
        execution_id: str,
        checked_machines: str | None = None,
        wave: Wave | None = None,
    ) -> LaunchResult:
        """Start the launch (of every machine, or of one wave's), or adopt the job(s) this
        execution already started for them after `not_before` (a provider whose jobs carry tags
        recognises them by `execution_id`). The machines must still be the ones the replication
        check judged (`checked_machines`), or nothing is launched."""
        ...

    def launch_of_this_execution(self, mode: Mode, not_before: datetime, execution_id: str) -> LaunchResult | None:
        """The launch job this execution started after `not_before` (its replication check), if the
        provider lists one: what a report says when the launch step left no result."""
        ...

    def job_snapshot(self, job_id: str, seen: int) -> JobSnapshot:
        """The job's status and the log lines after the first `seen`."""
        ...

    def find_target(self, launch: LaunchResult, want_dns_name: bool, machine: str | None = None) -> Target:
        """The recovered webserver's (or `machine`'s) address (public IP, or public DNS name for a
        CNAME), from this launch's job(s) only."""
        ...

    def clean_up_drill(self, launch: LaunchResult) -> DrillCleanup:
        """Terminate the instances this drill's job(s) launched, and only those. Asking again
        terminates nothing twice: it reports what is gone and what is still terminating."""
        ...


class Reachability(Protocol):
    """Whether a service answers at an address: a wave's check."""

    def tcp(self, host: str, port: int, timeout_seconds: float) -> ProbeResult:
        """Healthy if a TCP connection to host:port is accepted within the timeout."""
        ...

    def http(self, url: str, expected_status: int, timeout_seconds: float) -> ProbeResult:
        """Healthy if GET url answers `expected_status` within the timeout (no redirect followed)."""
        ...


class InstanceAddresses(Protocol):
    """Where a launched instance can be reached, from the cloud's own records (EC2)."""

    def public_address(self, instance_id: str, want_dns_name: bool = False) -> str | None:
        """The instance's public IPv4 (or public DNS name); None if it has none or does not exist."""
        ...


# ------------------------------------------------------------------------------------- DNS
class DnsRecords(Protocol):
    """The records of the one hosted zone DR Autopilot may change."""

    def zone_name(self) -> str | None:
        """The hosted zone's name (lower case, no trailing dot), or None if the zone does not exist."""
        ...

    def current(self, name: str, record_type: str) -> RecordValue | None:
        """The record as it is now, or None if it does not exist."""
        ...

    def upsert(self, name: str, record_type: str, value: str, ttl: int, comment: str) -> str:
        """UPSERT the record (repeating it changes nothing); returns the change id."""
        ...

    def wait_insync(self, change_id: str, timeout_seconds: float) -> datetime:
        """Wait until the change is INSYNC; DnsChangePending if it is not within the timeout."""
        ...

    def restore(self, ours: RecordValue, previous: RecordValue | None, comment: str) -> str:
        """In one change, delete the record as `ours` left it and create `previous` (if there was
        one). Route 53 applies it only while the record is exactly `ours` (DnsRecordChanged
        otherwise: someone changed it since). Returns the change id."""
        ...


# ------------------------------------------------------------------------------------ lock
@dataclass(frozen=True)
class LockState:
    """The lock as an attempt to take it left it."""

    acquired: bool
    holder: str | None
    holder_state: str | None
    expires_at: int | None
    suppressed: int


class FailoverLock(Protocol):
    """One failover per outage: a lock that names the execution holding it. Recoveries and drills
    hold separate locks (`scope` is the run's mode), so neither ever blocks the other."""

    def acquire(
        self, scope: Mode, execution_id: str, trigger: str, hold_seconds: int, honour_cooldown: bool
    ) -> LockState:
        """Take the `scope` lock for `execution_id`, or record one more suppressed start and say who holds it."""
        ...

    def release(self, scope: Mode, execution_id: str, cooldown_seconds: int) -> bool:
        """End this execution's hold; the cool-down starts now. False if another run holds it."""
        ...

    def peek(self, scope: Mode) -> LockState | None:
        """The `scope` lock as it is (None if there is none), without taking it."""
        ...

    def holds(self, scope: Mode, execution_id: str) -> bool:
        """Whether `execution_id` holds the `scope` lock right now (a consistent read)."""
        ...


class Claim(StrEnum):
    CLAIMED = "CLAIMED"
    SENT = "SENT"
    BUSY = "BUSY"


class FinalMessageLedger(Protocol):
    """Which executions' final message is out, or being sent right now: one per execution,
    however often a report step is retried or an end event delivered."""

    def claim(self, execution_id: str, for_seconds: int) -> Claim:
        """Take the right to send the final message for `for_seconds` (then a retry may take it):
        CLAIMED, or SENT (it is out), or BUSY (another invocation holds an unexpired claim)."""
        ...

    def sent(self, execution_id: str) -> None:
        """Record that the final message is out; later claims are refused for good."""
        ...

    def unclaim(self, execution_id: str) -> None:
        """Give the claim back (the publish failed): the next attempt may send."""
        ...


class ReadinessRecord(Protocol):
    """The last verdict of a readiness run, where `dr-autopilot status` reads it."""

    def record(self, verdict: ReadinessVerdict) -> bool:
        """Keep `verdict` as the last one, unless a later verdict is kept already; True if kept."""
        ...

    def last(self) -> ReadinessVerdict | None:
        """The last verdict kept, or None if no readiness run has reported yet."""
        ...


# ----------------------------------------------------------------------------- executions
class ExecutionStatus(Protocol):
    """Whether an execution of the state machine still runs."""

    def status(self, execution_arn: str) -> str:
        """The execution's status now (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, ...), or
        DOES_NOT_EXIST when Step Functions does not know it (its state machine was replaced)."""
        ...


class ExecutionHistory(ExecutionStatus, Protocol):
    """The state machine's own record of an execution."""

    def events(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every history event of the execution, oldest first."""
        ...


# ------------------------------------------------------------------------- people and pages
class Publisher(Protocol):
    """Where messages for on-call staff go (the SNS topic)."""

    def publish(self, subject: str, message: str) -> str:
        """Publish one message; returns its id. Repeating a message is harmless."""
        ...


@dataclass(frozen=True)
class ProbeResult:
    healthy: bool
    status_code: int | None
    detail: str
    seconds: float


class Probe(Protocol):
    """One look at the recovered webserver's landing page."""

    def __call__(
        self, url: str, expected_text: str, timeout_seconds: float, site_name: str | None = None
    ) -> ProbeResult:
        """Healthy only on 200 with `expected_text` in the body, within the timeout, from the
        address in `url`, asked for `site_name` (Host; for https also SNI and certificate name)."""
        ...
