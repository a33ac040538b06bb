"""Typed state of the failover workflow: the execution input and each state's output.

The workflow state is small by design — ids, counters and a bounded number of short text
lines, never per-machine lists — so it stays far below Step Functions' 256 KiB limit for any
number of machines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.config import JsonDict

from dr_autopilot.config import ALARM_NAME, WaveConfig

MAX_LISTED = 20  # machines named in a verdict, log lines surfaced per poll
MAX_LINE = 300
SafeText = Annotated[str, StringConstraints(max_length=MAX_LINE)]


class StateModel(BaseModel):
    """Workflow payload: camelCase on the wire, unknown keys ignored (each state reads its part)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def dump(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Mode(StrEnum):
    RECOVERY = "recovery"
    DRILL = "drill"


class ProviderJobStatus(StrEnum):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


# ---------------------------------------------------------------------------- execution input
def is_epoch(value: object) -> bool:
    """A number (or a string of one): pydantic would read it as a Unix timestamp, but its unit is
    ambiguous and the input contract (JSON Schema: date-time) does not allow it."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return numeric or (isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit())


class AlarmTrigger(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=ALARM_NAME)]
    reason: str = ""  # CloudWatch's text, kept to its first 1,024 characters (never a reason to refuse)
    time: AwareDatetime | None = None

    @field_validator("reason", mode="before")
    @classmethod
    def _shorten(cls, value: object) -> object:
        return value[:1024] if isinstance(value, str) else value

    @field_validator("time", mode="before")
    @classmethod
    def _timestamp(cls, value: object) -> object:
        if is_epoch(value):
            raise ValueError("give an ISO-8601 timestamp with a time zone, such as 2026-11-25T02:59:00Z")
        return value


# A readiness run asks "would a recovery be accepted now?": only as a dry run (no lock, no launch),
# of a recovery, and never forced (force would make a site that is not ready look ready).
READINESS_RULE: JsonDict = {
    "if": {"properties": {"readiness": {"const": True}}, "required": ["readiness"]},
    "then": {
        "properties": {"dryRun": {"const": True}, "force": {"const": False}, "mode": {"const": "recovery"}},
        "required": ["dryRun"],
        "not": {"required": ["alarm"]},
    },
}


class FailoverInput(BaseModel):
    """What on-call staff (console, CLI), an alarm rule or the readiness schedule passes to start
    a failover."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=READINESS_RULE,
    )

    mode: Mode = Mode.RECOVERY
    point_in_time: Literal["latest"] | AwareDatetime = "latest"
    force: StrictBool = False  # strict: 1, "true" or "yes" must not force a failover by accident
    dry_run: StrictBool = False
    # A dry run started to check readiness (the schedule): its verdict is recorded and measured.
    readiness: StrictBool = False
    requested_by: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w .@+:/()-]+$")] = (
        "unknown"
    )
    reason: Annotated[str, StringConstraints(max_length=1024)] = ""
    alarm: AlarmTrigger | None = None

    def to_execution_input(self) -> dict[str, object]:
        """The JSON the state machine is started with (what the console, CLI and drill send)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @field_validator("readiness")
    @classmethod
    def _only_a_dry_run_of_a_recovery(cls, value: bool, info: ValidationInfo) -> bool:
        if value and (
            info.data.get("dry_run") is not True
            or info.data.get("force") is not False
            or info.data.get("mode") is not Mode.RECOVERY
        ):
            raise ValueError(
                'a readiness run is a dry run of a recovery: give "dryRun": true, and no "force" or "mode": "drill"'
            )
        return value

    @model_validator(mode="after")
    def _readiness_is_not_an_alarm(self) -> Self:
        if self.readiness and self.alarm is not None:
            raise ValueError(
                'readiness: a readiness run is started by its schedule, not by an alarm; leave out "alarm"'
            )
        return self

    @field_validator("point_in_time", mode="before")
    @classmethod
    def _latest_or_timestamp(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "latest":
            return "latest"
        if is_epoch(value):
            raise ValueError("give an ISO-8601 timestamp with a time zone, such as 2026-11-25T02:50:00Z, or 'latest'")
        return value


class ExecutionContext(StateModel):
    id: str
    name: str
    start_time: datetime


class ValidateInputEvent(StateModel):
    input: object = None
    execution: ExecutionContext


# ------------------------------------------------------------------------------ state outputs
class FailoverRequest(StateModel):
    """The validated request, first thing in the state (`$.request`)."""

    mode: Mode
    point_in_time: datetime | None = None  # None = latest
    force: bool
    dry_run: bool
    readiness: bool = False  # a dry run whose verdict is recorded (dr-autopilot status) and measured
    requested_by: str
    reason: str
    trigger: Literal["console", "alarm"]
    alarm_name: str | None = None
    execution_id: str
    execution_name: str
    started_at: datetime


class LockResult(StateModel):
    """AcquireLock's verdict: this run may go on, or another failover holds the lock."""

    acquired: bool
    holder: str | None = None
    suppressed: int = 0
    approval_required: bool = False
    detail: str = ""


class MachineProblem(StateModel):
    name: SafeText
    reasons: list[SafeText]


class ReplicationReport(StateModel):
    total: int
    ready: int
    not_ready: int
    max_lag_seconds: float | None = None
    problems: Annotated[list[MachineProblem], Field(max_length=MAX_LISTED)] = []
    forced: bool = False
    checked_at: datetime  # the provider's clock: later launches are recognised against it
    observed_at: datetime | None = None  # the pipeline's clock, for the timeline
    # What "ready" means, in the provider's own words (messages quote it).
    ready_means: str = "in Continuous Data Replication"
    # A digest of the machines judged (their provider IDs): the launch refuses any other set.
    machines_digest: str | None = None


def machines_digest(machine_ids: Iterable[str]) -> str:
    """One short value for a set of machine IDs, whatever their number or order."""
    return "sha256:" + hashlib.sha256("\n".join(sorted(machine_ids)).encode()).hexdigest()


class RecoveryPoint(StateModel):
    requested: Literal["latest"] | datetime
    newest_chosen: datetime | None = None
    oldest_chosen: datetime | None = None
    machine_count: int


class DnsCheck(StateModel):
    """CheckDnsRecord's verdict: the record this run would switch lies in the configured zone."""

    zone_name: str
    record_name: str | None  # None: this mode switches no record (a drill without drillRecordName)


class WaveRecord(StateModel):
    """One wave of a recovery plan that was launched: its job(s) and when (the state keeps at most
    MAX_WAVES of them)."""

    index: int
    name: SafeText
    job_id: str
    launch_type: str
    machine_count: int
    launched_at: datetime  # the provider's clock
    requested_at: datetime | None = None  # the pipeline's clock
    completed_at: datetime | None = None  # the pipeline's clock: the poll that saw the job complete
    webserver_id: str | None = None  # set in the webserver's wave (DRS: its source server)


class LaunchResult(StateModel):
    job_id: str
    launch_type: str
    machine_count: int
    launched_at: datetime  # the provider's clock
    requested_at: datetime | None = None  # the pipeline's clock
    adopted: bool = False  # True when an earlier attempt of this execution had already launched
    # The provider's ID of the webserver machine as the launch resolved it, so that FindTargets
    # asks for that one machine instead of listing them all (3,000 source servers in DRS).
    webserver_id: str | None = None
    # A recovery plan in waves: this launch is wave `wave_index` of `wave_count`; `waves` are the
    # waves launched so far, this one last (empty without a plan: one launch of every machine).
    wave_index: int = 0
    wave_count: int = 1
    waves: Annotated[list[WaveRecord], Field(max_length=10)] = []

    def of_wave(self, record: WaveRecord) -> LaunchResult:
        """The launch of one wave, as FindTargets and the clean-up ask the provider about it."""
        return LaunchResult(
            job_id=record.job_id,
            launch_type=record.launch_type,
            machine_count=record.machine_count,
            launched_at=record.launched_at,
            requested_at=record.requested_at,
            webserver_id=record.webserver_id,
            wave_index=record.index,
            wave_count=self.wave_count,
        )

    def every_wave(self) -> list[LaunchResult]:
        """This launch, or with a plan the launch of every wave so far."""
        return [self.of_wave(record) for record in self.waves] if self.waves else [self]

    def webserver_wave(self, webserver_name: str, waves: list[WaveConfig] | None) -> LaunchResult:
        """The launch that recovered the webserver: the wave that holds it (DRS tags: the wave
        whose launch found it), else this launch."""
        if not self.waves or waves is None:
            return self
        for record in self.waves:
            planned = waves[record.index].machines or []
            if webserver_name in planned or record.webserver_id:
                return self.of_wave(record)
        return self


class JobProgress(StateModel):
    job_id: str | None = None  # the job looked at (a plan's next wave starts a new count)
    status: ProviderJobStatus
    log_lines: int
    new_log_lines: Annotated[list[SafeText], Field(max_length=MAX_LISTED)] = []
    converters_finished: bool = False
    polls: int = 0
    wait_seconds: int = 0
    elapsed_seconds: float = 0.0
    converters_observed_at: datetime | None = None  # the pipeline's clock, first poll that saw it
    completed_observed_at: datetime | None = None


class Target(StateModel):
    machine_name: str
    instance_id: str | None = None
    address: str
    address_source: Literal["replica", "ec2"]
    # The record UpdateDns will change, as it was before this execution changed anything: read
    # once here, so a retried UpdateDns (after its UPSERT took effect) still knows the way back.
    record_before: RecordValue | None = None
    record_before_read: bool = False


class WaveCheck(StateModel):
    """CheckWave's verdict on the wave just completed: its service answers (or it has no check),
    and whether another wave follows (after `pause_seconds`)."""

    wave_index: int
    wave: SafeText
    ready: bool
    detail: SafeText = ""
    attempts: int = 0
    first_checked_at: datetime | None = None
    checked_at: datetime
    wait_seconds: int = 0
    address: str | None = None  # the checked machine's, found (with its provenance) at the first attempt
    last_wave: bool
    pause_seconds: int = 0


class HealthResult(StateModel):
    healthy: bool
    url: str
    attempts: int
    status_code: int | None = None
    detail: SafeText = ""
    wait_seconds: int = 0
    checked_at: datetime


class RecordValue(StateModel):
    name: str
    type: str
    values: list[str]
    ttl: int | None = None


class DnsResult(StateModel):
    skipped: bool = False
    detail: str = ""
    previous: RecordValue | None = None
    current: RecordValue | None = None
    change_id: str | None = None
    insync_at: datetime | None = None


class RecordRestore(StrEnum):
    """What a drill's clean-up did with the drill record it had switched."""

    RESTORED = "restored"  # back to the values it had before the drill
    REMOVED = "removed"  # it did not exist before the drill
    CHANGED_SINCE = "changed-since"  # someone changed it after the drill: left as it is
    NOT_SWITCHED = "not-switched"  # the drill switched no record
    FAILED = "not-restored"  # Route 53 refused: it still points at the drill site


class CleanupResult(StateModel):
    """CleanUpDrill's account: what of this drill's was removed, and what was left and why."""

    requested_by: SafeText  # who ended the hold: the timer or a person
    instances_terminated: int  # instances of this drill terminated (or already gone) in the end
    instance_ids: Annotated[list[SafeText], Field(max_length=MAX_LISTED)] = []  # the first of them
    left_alone: Annotated[list[SafeText], Field(max_length=MAX_LISTED)] = []  # not this drill's any more, why
    cleanup_jobs: Annotated[list[SafeText], Field(max_length=MAX_LISTED)] = []
    record: RecordRestore
    record_detail: SafeText = ""
    finished_at: datetime


class ErrorInfo(BaseModel):
    """What a Catch puts at `$.error`: Step Functions' {Error, Cause} (Cause may be the Lambda's JSON)."""

    model_config = ConfigDict(extra="ignore")

    Error: str = "States.Unknown"
    Cause: str | None = None


class WorkflowState(StateModel):
    """The whole workflow state; each handler reads the parts it needs."""

    request: FailoverRequest
    lock: LockResult | None = None
    approval: dict[str, object] | None = None
    replication: ReplicationReport | None = None
    recovery_point: RecoveryPoint | None = None
    dns_check: DnsCheck | None = None
    launch: LaunchResult | None = None
    job: JobProgress | None = None
    wave_check: WaveCheck | None = None
    target: Target | None = None
    health: HealthResult | None = None
    dns: DnsResult | None = None
    hold: dict[str, object] | None = None  # how the drill's hold ended (a person, or its timer)
    cleanup: CleanupResult | None = None
    error: ErrorInfo | None = None


class ReadinessVerdict(StateModel):
    """What a readiness run found: would a recovery started now pass every check before the launch?"""

    ready: bool
    checked_at: datetime  # the pipeline's clock, when the verdict was reached
    execution_id: str
    execution_name: str
    total_machines: int | None = None  # None: replication could not be checked
    ready_machines: int | None = None
    max_lag_seconds: float | None = None
    reasons: Annotated[list[SafeText], Field(max_length=MAX_LISTED + 1)] = []  # empty when ready


NOT_READY = "NOT_READY"  # the outcome of a readiness run that found the site not ready


class FailoverSummary(StateModel):
    outcome: Literal["SUCCEEDED", "FAILED", "DRY_RUN", "DEDUPLICATED", "TIMED_OUT", "ABORTED", "READY", "NOT_READY"]
    headline: str
    mode: Mode
    job_id: str | None = None
    recovery_point: str | None = None
    record_before: RecordValue | None = None
    record_after: RecordValue | None = None
    recovered_address: str | None = None
    timeline: dict[str, datetime] = {}
    error: str | None = None
    changed: list[str] = []
    unchanged: list[str] = []
    cleanup: CleanupResult | None = None
    readiness: ReadinessVerdict | None = None  # readiness runs only


class EndedExecution(StateModel):
    """The `detail` of Step Functions' "Execution Status Change" event (EventBridge)."""

    execution_arn: str
    state_machine_arn: str
    name: str
    status: Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "RUNNING", "PENDING_REDRIVE"]
    error: str | None = None
    cause: str | None = None


class ExecutionStatusChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    detail: EndedExecution


def input_schema() -> dict[str, object]:
    """The execution input contract as JSON Schema (committed as schemas/failover-input.schema.json)."""
    schema = FailoverInput.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/dr-autopilot/schemas/failover-input.schema.json",
        **schema,
        "title": "DR Autopilot failover input",
        "description": "Input of the failover state machine, from the console, the CLI, the alarm rule or the "
        "readiness schedule. "
        "Unknown fields are refused; every field is optional ({} = recovery from the latest point).",
    }
