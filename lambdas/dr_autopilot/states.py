"""The one table of the workflow's states.

Every state name is written here and nowhere else. The stack builds one function per task from
`TASKS` (handler, timeout, environment, permissions), the workflow construct names its states
from `StateName`, and the CLI, the drill and its report group the states into `PHASES`. Renaming
a state here renames it everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from dr_autopilot.config import FailoverConfig
from dr_autopilot.environment import Variable


class StateName(StrEnum):
    # Tasks: one Lambda function each (see TASKS).
    VALIDATE_INPUT = "ValidateInput"
    ACQUIRE_LOCK = "AcquireLock"
    WAIT_FOR_APPROVAL = "WaitForApproval"
    CHECK_REPLICATION = "CheckReplication"
    CHOOSE_RECOVERY_POINT = "ChooseRecoveryPoint"
    CHECK_DNS_RECORD = "CheckDnsRecord"
    LAUNCH_RECOVERY = "LaunchRecovery"
    POLL_JOB = "PollJob"
    CHECK_WAVE = "CheckWave"  # recovery plans in waves only
    FIND_TARGETS = "FindTargets"
    HEALTH_CHECK = "HealthCheck"
    UPDATE_DNS = "UpdateDns"
    HOLD_DRILL = "HoldDrill"  # waits for a task token: `dr-autopilot drill-cleanup`, or its timer
    CLEAN_UP_DRILL = "CleanUpDrill"
    REPORT_SUCCESS = "ReportSuccess"
    REPORT_FAILURE = "ReportFailure"
    # Flow: choices, waits and passes.
    LOCK_ACQUIRED = "LockAcquired?"
    APPROVAL_REQUIRED = "ApprovalRequired?"
    APPROVAL_TIMED_OUT = "ApprovalTimedOut"
    APPROVAL_TIMED_OUT_PROCEEDING = "ApprovalTimedOutProceeding"
    DRY_RUN = "DryRun?"
    WAIT_FOR_JOB = "WaitForJob"
    JOB_COMPLETED = "JobCompleted?"
    WAVE_READY = "WaveReady?"
    WAIT_FOR_WAVE = "WaitForWave"
    MORE_WAVES = "MoreWaves?"
    PAUSE_BEFORE_NEXT_WAVE = "PauseBeforeNextWave"
    WAIT_FOR_HEALTH = "WaitForHealth"
    TARGET_HEALTHY = "TargetHealthy?"
    DRILL_TO_CLEAN_UP = "DrillToCleanUp?"
    HOLD_ENDED = "HoldEnded"
    HOLD_EXPIRED = "HoldExpired"
    HOLD_INTERRUPTED = "HoldInterrupted"
    NOT_READY_REPORTED = "NotReady?"  # after ReportFailure: a readiness verdict, or a failed failover
    # Ends.
    INPUT_REJECTED = "InputRejected"
    DEDUPLICATED = "Deduplicated"
    FAILOVER_IN_PROGRESS = "FailoverInProgress"
    FAILOVER_SUCCEEDED = "FailoverSucceeded"
    FAILOVER_FAILED = "FailoverFailed"
    FAILOVER_FAILED_UNREPORTED = "FailoverFailedUnreported"
    SITE_NOT_READY = "SiteNotReady"  # a readiness run that found a recovery would be refused now


class Watcher(StrEnum):
    """Functions outside the state machine that watch its executions (not states)."""

    REPORT_END = "ReportEnd"


class Need(StrEnum):
    """What a task's function needs besides its configuration; each becomes an environment
    variable, a grant, or both."""

    # Ask the recovery provider: CloudEndure's API token secret, or DRS's Describe* read actions.
    PROVIDER = "ask the recovery provider (CloudEndure: read its API token; DRS: its read actions)"
    # Start a launch: for DRS, StartRecovery and the actions it needs of its caller.
    PROVIDER_LAUNCH = "start a launch at the recovery provider"
    TOPIC = "publish to the notification topic"
    LOCK_TABLE = "read and write the failover lock table (the lock, each final-message record, the readiness verdict)"
    IDEMPOTENCY_TABLE = "read and write the idempotency table"
    EC2_READ = "describe EC2 instances (address fallback)"
    DNS_READ = "read the hosted zone's records"
    ZONE_READ = "read the hosted zone itself (its name)"
    DNS_CHANGE = "UPSERT the configured records and read the change status"
    # Put the drill record back: DELETE (and CREATE its earlier value), on the drill record only.
    DRILL_RECORD_RESTORE = "restore or remove the drill record"
    # End a drill: CloudEndure's replica deletion (its token), DRS's TerminateRecoveryInstances.
    PROVIDER_CLEANUP = "terminate the drill's instances at the recovery provider"
    HISTORY_READ = "read the state machine's executions and their histories"
    EXECUTION_STATUS = "read the status of the state machine's executions (a lock holder that ended)"

    @property
    def variable(self) -> Variable | None:
        """The environment variable that carries what this need names, if any."""
        return _NEED_VARIABLES.get(self)


_NEED_VARIABLES = {
    Need.TOPIC: Variable.TOPIC_ARN,
    Need.LOCK_TABLE: Variable.LOCK_TABLE,
    Need.IDEMPOTENCY_TABLE: Variable.IDEMPOTENCY_TABLE,
}


def _fixed(seconds: int) -> Callable[[FailoverConfig], int]:
    return lambda _config: seconds


DEFAULT_TIMEOUT = _fixed(30)


@dataclass(frozen=True)
class TaskSpec:
    """One task state and the Lambda function behind it."""

    state: StateName | Watcher
    module: str  # dr_autopilot.handlers.<module>.handler
    result_key: str  # the WorkflowState field the result lands in ($.<result_key>)
    timeout: Callable[[FailoverConfig], int]  # the function's timeout in seconds
    needs: frozenset[Need]

    @property
    def handler(self) -> str:
        return f"dr_autopilot.handlers.{self.module}.handler"

    @property
    def result_path(self) -> str:
        return f"$.{self.result_key}"

    @property
    def variables(self) -> frozenset[Variable]:
        """The environment variables the function must have (besides the configuration)."""
        return frozenset(need.variable for need in self.needs if need.variable is not None)


def _task(
    state: StateName | Watcher,
    module: str,
    result_key: str,
    *needs: Need,
    timeout: Callable[[FailoverConfig], int] = DEFAULT_TIMEOUT,
) -> TaskSpec:
    return TaskSpec(state, module, result_key, timeout, frozenset(needs))


TASKS: tuple[TaskSpec, ...] = (
    # ValidateInput's result replaces the whole state as {"request": ...} (see the workflow).
    _task(StateName.VALIDATE_INPUT, "validate_input", "request"),
    _task(StateName.ACQUIRE_LOCK, "acquire_lock", "lock", Need.TOPIC, Need.LOCK_TABLE, Need.EXECUTION_STATUS),
    # Waits for a task token; the function only sends the approval request.
    _task(StateName.WAIT_FOR_APPROVAL, "request_approval", "approval", Need.TOPIC),
    _task(
        StateName.CHECK_REPLICATION, "check_replication", "replication", Need.PROVIDER, Need.TOPIC, timeout=_fixed(120)
    ),
    _task(
        StateName.CHOOSE_RECOVERY_POINT, "choose_recovery_point", "recoveryPoint", Need.PROVIDER, timeout=_fixed(300)
    ),
    _task(StateName.CHECK_DNS_RECORD, "check_dns_record", "dnsCheck", Need.ZONE_READ, Need.DNS_READ),
    _task(
        StateName.LAUNCH_RECOVERY,
        "launch_recovery",
        "launch",
        Need.PROVIDER,
        Need.PROVIDER_LAUNCH,
        Need.LOCK_TABLE,  # still this execution's lock? (a redriven run must not launch beside another)
        Need.TOPIC,
        Need.IDEMPOTENCY_TABLE,
        timeout=_fixed(300),
    ),
    _task(StateName.POLL_JOB, "poll_job", "job", Need.PROVIDER, Need.TOPIC, timeout=_fixed(60)),
    _task(
        StateName.CHECK_WAVE,
        "check_wave",
        "waveCheck",
        Need.PROVIDER,
        Need.EC2_READ,
        Need.TOPIC,
        timeout=_fixed(120),  # the machine's address, then one probe (at most 10 s)
    ),
    _task(
        StateName.FIND_TARGETS,
        "find_targets",
        "target",
        Need.PROVIDER,
        Need.EC2_READ,
        Need.DNS_READ,
        timeout=_fixed(120),
    ),
    _task(
        StateName.HEALTH_CHECK,
        "health_check",
        "health",
        Need.TOPIC,
        # one probe per invocation, plus the function's own start-up
        timeout=lambda config: int(config.health_check.timeout_seconds) + 15,
    ),
    _task(
        StateName.UPDATE_DNS,
        "update_dns",
        "dns",
        Need.TOPIC,
        Need.DNS_READ,
        Need.DNS_CHANGE,
        Need.LOCK_TABLE,  # still this execution's lock?
        # the function waits for INSYNC itself
        timeout=lambda config: config.dns.insync_timeout_seconds + 60,
    ),
    # Waits for a task token; the function only tells on-call staff how to end the hold early.
    _task(StateName.HOLD_DRILL, "hold_drill", "hold", Need.TOPIC),
    _task(
        StateName.CLEAN_UP_DRILL,
        "clean_up_drill",
        "cleanup",
        Need.PROVIDER,
        Need.PROVIDER_CLEANUP,
        Need.DNS_READ,
        Need.DRILL_RECORD_RESTORE,
        # waits for the instances to be gone, within the function's time (then CleanupPending, retried)
        timeout=_fixed(300),
    ),
    _task(StateName.REPORT_SUCCESS, "report_success", "summary", Need.TOPIC, Need.LOCK_TABLE),
    # The provider: a launch step that left no result is looked up there (truthful report).
    _task(
        StateName.REPORT_FAILURE,
        "report_failure",
        "summary",
        Need.PROVIDER,
        Need.TOPIC,
        Need.LOCK_TABLE,
        Need.DNS_READ,
        timeout=_fixed(120),
    ),
)

TASK_BY_STATE: dict[StateName | Watcher, TaskSpec] = {task.state: task for task in TASKS}

# Every end of an execution that the workflow could not report itself (timed out, aborted, failed
# before or while reporting) gets its one final message from here (EventBridge status changes).
REPORT_END = _task(
    Watcher.REPORT_END,
    "report_end",
    "summary",
    Need.PROVIDER,
    Need.TOPIC,
    Need.LOCK_TABLE,
    Need.DNS_READ,
    Need.HISTORY_READ,
    timeout=_fixed(120),
)
FUNCTIONS: tuple[TaskSpec, ...] = (*TASKS, REPORT_END)
SPEC_BY_NAME: dict[StateName | Watcher, TaskSpec] = {spec.state: spec for spec in FUNCTIONS}


@dataclass(frozen=True)
class Phase:
    """A step of the runbook as people talk about it, made of one or more states."""

    key: str  # short, for the CLI and JSON
    title: str  # for reports
    states: tuple[StateName, ...]
    drill_only: bool = False  # a recovery never passes here
    plan_only: bool = False  # only a recovery plan in waves passes here


PHASES: tuple[Phase, ...] = (
    Phase("validate", "Validate input", (StateName.VALIDATE_INPUT,)),
    Phase(
        "lock",
        "Acquire lock",
        (
            StateName.ACQUIRE_LOCK,
            StateName.LOCK_ACQUIRED,
            StateName.APPROVAL_REQUIRED,
            StateName.WAIT_FOR_APPROVAL,
            StateName.APPROVAL_TIMED_OUT,
            StateName.APPROVAL_TIMED_OUT_PROCEEDING,
        ),
    ),
    Phase("replication", "Check replication", (StateName.CHECK_REPLICATION,)),
    Phase("recovery-point", "Choose recovery point", (StateName.CHOOSE_RECOVERY_POINT,)),
    Phase("dns-check", "Check DNS record", (StateName.CHECK_DNS_RECORD, StateName.DRY_RUN)),
    Phase("launch", "Launch recovery", (StateName.LAUNCH_RECOVERY,)),
    Phase("job", "Wait for the job", (StateName.POLL_JOB, StateName.WAIT_FOR_JOB, StateName.JOB_COMPLETED)),
    Phase(
        "wave-check",
        "Check the wave",
        (
            StateName.CHECK_WAVE,
            StateName.WAVE_READY,
            StateName.WAIT_FOR_WAVE,
            StateName.MORE_WAVES,
            StateName.PAUSE_BEFORE_NEXT_WAVE,
        ),
        plan_only=True,
    ),
    Phase("targets", "Find targets", (StateName.FIND_TARGETS,)),
    Phase("health", "Health check", (StateName.HEALTH_CHECK, StateName.WAIT_FOR_HEALTH, StateName.TARGET_HEALTHY)),
    Phase("dns", "Update DNS", (StateName.UPDATE_DNS, StateName.DRILL_TO_CLEAN_UP)),
    Phase(
        "hold",
        "Hold the drill site",
        (StateName.HOLD_DRILL, StateName.HOLD_ENDED, StateName.HOLD_EXPIRED, StateName.HOLD_INTERRUPTED),
        drill_only=True,
    ),
    Phase("cleanup", "Clean up the drill", (StateName.CLEAN_UP_DRILL,), drill_only=True),
    Phase("report", "Report", (StateName.REPORT_SUCCESS, StateName.REPORT_FAILURE, StateName.NOT_READY_REPORTED)),
)

PHASE_OF_STATE: dict[str, Phase] = {state.value: phase for phase in PHASES for state in phase.states}
