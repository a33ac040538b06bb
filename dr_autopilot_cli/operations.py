"""What the CLI does, over a Step Functions client (AWS, or local AWS) and the provider's API."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr_autopilot import history
from dr_autopilot.clients.lock import DynamoDbFailoverLock, DynamoDbReadinessRecord
from dr_autopilot.clients.stepfunctions import DOES_NOT_EXIST
from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import ApprovalRejected, ServiceUnavailable
from dr_autopilot.logic.lock import ENDED
from dr_autopilot.logic.validate_input import describe
from dr_autopilot.models import FailoverInput, Mode, ReadinessVerdict
from dr_autopilot.ports import ExecutionStatus
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.providers.cloudendure.replication import ReplicationThresholds, assess_replication
from dr_autopilot.states import StateName
from pydantic import ValidationError


class CliError(Exception):
    """A problem the operator can fix (wrong argument, unknown execution); exit code 2."""


@dataclass
class MachineRow:
    name: str
    replication: str
    lag_seconds: float | None
    ready: bool
    reasons: list[str]


def machine_status(client: CloudEndureClient, config: FailoverConfig) -> list[MachineRow]:
    assert config.cloudendure is not None  # the configuration requires the section for this provider
    project = client.find_project(config.cloudendure.project_name)
    wanted = None if config.machines == "all" else set(config.machines)
    thresholds = ReplicationThresholds(
        max_lag_seconds=config.replication.max_lag_seconds,
        max_agent_silence_seconds=config.replication.max_agent_silence_seconds,
    )
    machines = [m for m in client.machines(project.id) if wanted is None or m.name in wanted]
    now = client.server_time()
    rows = []
    for machine in machines:
        verdict = assess_replication(machine, now, thresholds)
        rows.append(
            MachineRow(
                machine.name,
                machine.replication_status.value,
                verdict.lag_seconds,
                verdict.ready,
                list(verdict.reasons),
            )
        )
    return rows


@dataclass
class LastReadiness:
    """The last readiness verdict as `status` shows it: the verdict, or why there is none to show."""

    verdict: ReadinessVerdict | None
    note: str = ""  # when there is no verdict: none yet, or it could not be read

    def to_json(self) -> dict[str, object] | None:
        return self.verdict.dump() if self.verdict else None


def last_readiness(record: DynamoDbReadinessRecord, config: FailoverConfig) -> LastReadiness:
    """The verdict the last readiness run kept in the lock table. Reading it is best effort: the
    machines' status is what `status` is for, so an unreadable table is said, not fatal."""
    try:
        verdict = record.last()
    except ServiceUnavailable as error:
        return LastReadiness(None, f"could not be read ({error})")
    if verdict is not None:
        return LastReadiness(verdict)
    if not config.readiness.enabled:
        return LastReadiness(None, "none (readiness.enabled is false: no schedule)")
    return LastReadiness(None, f"none yet (the schedule runs every {config.readiness.rate_minutes} minutes)")


def failover_input(
    mode: str, point_in_time: str, force: bool, dry_run: bool, requested_by: str, reason: str
) -> dict[str, object]:
    """The execution input, checked against the same contract the workflow enforces."""
    try:
        model = FailoverInput(
            mode=mode,
            point_in_time=point_in_time,
            force=force,
            dry_run=dry_run,
            requested_by=requested_by,
            reason=reason,
        )
    except ValidationError as error:
        raise CliError(f"invalid failover input: {describe(error)}") from None
    return model.to_execution_input()


def start(states: Any, state_machine_arn: str, body: dict[str, object], name: str | None = None) -> str:
    name = name or f"cli-{datetime.now():%Y%m%d-%H%M%S}-{body.get('mode', Mode.RECOVERY.value)}"
    name = re.sub(r"[^\w-]", "-", name)[:80]
    return str(
        states.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(body))["executionArn"]
    )


@dataclass
class Report:
    execution: str
    status: str
    phases: list[tuple[str, float]]
    timeline: dict[str, str]
    rto_seconds: float | None
    objective_seconds: int
    error: str | None
    headline: str | None
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rpo_seconds: float | None = None  # the largest replication lag when replication was checked
    rpo_objective_seconds: float = 0.0  # replication.maxLagSeconds

    @property
    def within_objective(self) -> bool | None:
        return None if self.rto_seconds is None else self.rto_seconds <= self.objective_seconds


def report(states: Any, execution_arn: str, config: FailoverConfig) -> Report:
    description = states.describe_execution(executionArn=execution_arn)
    events = history.history(states, execution_arn)
    summary = history.summary(events)
    timeline = summary.get("timeline", {})
    rto = None
    if "started" in timeline and "dnsInsync" in timeline:
        rto = (
            datetime.fromisoformat(timeline["dnsInsync"]) - datetime.fromisoformat(timeline["started"])
        ).total_seconds()
    replication = history.last_result(events, StateName.CHECK_REPLICATION, "replication") or {}
    lag = replication.get("maxLagSeconds")
    return Report(
        execution=description["name"],
        status=description["status"],
        phases=history.phase_spans(events),
        timeline=timeline,
        rto_seconds=rto,
        objective_seconds=config.rto_objective_seconds,
        error=description.get("error"),
        headline=summary.get("headline"),
        changed=[str(line) for line in summary.get("changed", [])]
        if summary
        else _ended_outside(description["status"]),
        unchanged=[str(line) for line in summary.get("unchanged", [])],
        rpo_seconds=float(lag) if isinstance(lag, int | float) else None,
        rpo_objective_seconds=config.replication.max_lag_seconds,
    )


def _ended_outside(status: str) -> list[str]:
    """An execution that ended without its report step (aborted, timed out, failed while
    reporting): its final message came from ReportEnd, outside the execution's history."""
    if status in ("ABORTED", "TIMED_OUT", "FAILED"):
        return [
            "Not in this execution's history: it ended without its report step, and its final message (sent by "
            "ReportEnd after the end) says what was and was not changed."
        ]
    return []


def answer_approval(states: Any, token: str, approve: bool, who: str, reason: str) -> None:
    if approve:
        states.send_task_success(taskToken=token, output=json.dumps({"approvedBy": who, "reason": reason}))
    else:
        states.send_task_failure(
            taskToken=token, error=ApprovalRejected.__name__, cause=f"rejected by {who}: {reason}"[:256]
        )


def pending_task_token(states: Any, execution_arn: str, state: StateName) -> str:
    """The task token `state` of the execution is waiting with (from its history), if it waits there now."""
    entered: str | None = None
    waiting: str | None = None
    for event in history.history(states, execution_arn):
        if event["type"].endswith("StateEntered"):  # any state: the wait, if any, is over
            entered = event.get("stateEnteredEventDetails", {}).get("name")
            waiting = None
        details = event.get("taskScheduledEventDetails")
        if details and entered == state and "taskToken" in details.get("parameters", ""):
            token = json.loads(details["parameters"]).get("Payload", {}).get("taskToken")
            waiting = str(token) if token else None
        if event["type"] in (
            "TaskStateExited",
            "ExecutionSucceeded",
            "ExecutionFailed",
            "ExecutionAborted",
            "ExecutionTimedOut",
        ):
            entered = waiting = None
    if waiting is None:
        raise CliError(f"execution {execution_arn} is not waiting at {state}")
    return waiting


def pending_approval_token(states: Any, execution_arn: str) -> str:
    """The task token of an execution waiting at WaitForApproval."""
    return pending_task_token(states, execution_arn, StateName.WAIT_FOR_APPROVAL)


def end_drill_hold(states: Any, execution_arn: str, who: str) -> None:
    """End a drill's hold now: the workflow cleans the drill up (`dr-autopilot drill-cleanup`)."""
    token = pending_task_token(states, execution_arn, StateName.HOLD_DRILL)
    states.send_task_success(
        taskToken=token, output=json.dumps({"endedBy": f"{who} with dr-autopilot drill-cleanup"[:200]})
    )


def unlock(lock: DynamoDbFailoverLock, executions: ExecutionStatus, scope: Mode) -> str:
    """Remove the `scope` lock, and with it any cool-down, unless its holder still runs. A last
    resort: the workflow takes over a lock whose holder has ended by itself."""
    held = lock.peek(scope)
    if held is None or not held.holder:
        return f"no {scope.value} lock is held: nothing to do"
    status = executions.status(held.holder)
    if status not in ENDED and status != DOES_NOT_EXIST:  # a state machine replaced: no run will release it
        raise CliError(
            f"{held.holder} is {status} and holds the {scope.value} lock: stop it first "
            f"(aws stepfunctions stop-execution --execution-arn {held.holder}); its end releases the lock"
        )
    if not lock.remove(scope, held.holder):
        raise CliError(f"the {scope.value} lock changed while it was being removed; run the command again")
    return f"removed the {scope.value} lock of {held.holder} ({status}, lock state {held.holder_state})"
