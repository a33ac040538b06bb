"""What the CLI does, over boto3 clients (AWS, or local AWS in the drill environment)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr_autopilot.config import FailoverConfig
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.providers.cloudendure.replication import ReplicationThresholds, assess_replication

PHASES = [
    ("validate", ("ValidateInput",)),
    ("lock", ("AcquireLock", "WaitForApproval")),
    ("replication", ("CheckReplication", "ChooseRecoveryPoint")),
    ("launch", ("LaunchRecovery",)),
    ("job", ("PollJob", "WaitForJob")),
    ("targets", ("FindTargets",)),
    ("health", ("HealthCheck", "WaitForHealth")),
    ("dns", ("UpdateDns",)),
    ("report", ("ReportSuccess", "ReportFailure")),
]


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
    assert config.cloudendure is not None
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


def failover_input(
    mode: str, point_in_time: str, force: bool, dry_run: bool, requested_by: str, reason: str
) -> dict[str, Any]:
    return {
        "mode": mode,
        "pointInTime": point_in_time,
        "force": force,
        "dryRun": dry_run,
        "requestedBy": requested_by,
        "reason": reason,
    }


def start(states: Any, state_machine_arn: str, body: dict[str, Any], name: str | None = None) -> str:
    name = name or f"cli-{datetime.now():%Y%m%d-%H%M%S}-{body.get('mode', 'recovery')}"
    name = re.sub(r"[^\w-]", "-", name)[:80]
    return str(
        states.start_execution(stateMachineArn=state_machine_arn, name=name, input=json.dumps(body))["executionArn"]
    )


def history(states: Any, execution_arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        page = states.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def phase_seconds(events: list[dict[str, Any]], phases: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, float]]:
    """Seconds from the first entry to the last exit of each phase's states, in phase order."""
    spans: dict[str, list[datetime]] = {}
    open_state: tuple[str, datetime] | None = None
    for event in events:
        if "stateEnteredEventDetails" in event:
            open_state = (event["stateEnteredEventDetails"]["name"], event["timestamp"])
        elif "stateExitedEventDetails" in event and open_state:
            name, entered = open_state
            for phase, states in phases:
                if name in states:
                    spans.setdefault(phase, []).extend([entered, event["timestamp"]])
            open_state = None
    return [(phase, (max(spans[phase]) - min(spans[phase])).total_seconds()) for phase, _ in phases if phase in spans]


@dataclass
class Progress:
    """What `watch` shows: the current phase, new job-log lines, the end."""

    phase: str = "validate"
    phase_index: int = 0
    new_lines: list[str] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)  # phases entered since the last look, in order
    status: str = "RUNNING"
    error: str | None = None
    cause: str | None = None
    output: dict[str, Any] | None = None


def follow(
    states: Any, execution_arn: str, interval: float = 1.0, sleep: Callable[[float], None] = time.sleep
) -> Iterator[Progress]:
    """Yield progress each time something new happened, until the execution ends."""
    seen = 0
    progress = Progress()
    while True:
        description = states.describe_execution(executionArn=execution_arn)
        events = history(states, execution_arn)
        fresh, seen = events[seen:], len(events)
        progress.new_lines, progress.entered = [], []
        for event in fresh:
            entered = event.get("stateEnteredEventDetails")
            if entered:
                for index, (phase, names) in enumerate(PHASES):
                    if entered["name"] in names and phase != progress.phase:
                        progress.phase, progress.phase_index = phase, index
                        progress.entered.append(phase)
            exited = event.get("stateExitedEventDetails")
            if exited and exited["name"] == "PollJob":
                progress.new_lines += json.loads(exited["output"]).get("job", {}).get("newLogLines", [])
        progress.status = description["status"]
        if progress.status != "RUNNING":
            progress.error, progress.cause = description.get("error"), description.get("cause")
            progress.output = json.loads(description["output"]) if description.get("output") else None
            yield progress
            return
        if fresh:
            yield progress
        sleep(interval)


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

    @property
    def within_objective(self) -> bool | None:
        return None if self.rto_seconds is None else self.rto_seconds <= self.objective_seconds


def report(states: Any, execution_arn: str, config: FailoverConfig) -> Report:
    description = states.describe_execution(executionArn=execution_arn)
    events = history(states, execution_arn)
    phases = phase_seconds(events, PHASES)
    summary: dict[str, Any] = {}
    for event in events:
        exited = event.get("stateExitedEventDetails")
        if exited and exited["name"] in ("ReportSuccess", "ReportFailure"):
            summary = json.loads(exited["output"]).get("summary", {})
    timeline = summary.get("timeline", {})
    rto = None
    if "started" in timeline and "dnsInsync" in timeline:
        rto = (
            datetime.fromisoformat(timeline["dnsInsync"]) - datetime.fromisoformat(timeline["started"])
        ).total_seconds()
    return Report(
        execution=description["name"],
        status=description["status"],
        phases=phases,
        timeline=timeline,
        rto_seconds=rto,
        objective_seconds=config.rto_objective_seconds,
        error=description.get("error"),
        headline=summary.get("headline"),
    )


def answer_approval(states: Any, token: str, approve: bool, who: str, reason: str) -> None:
    if approve:
        states.send_task_success(taskToken=token, output=json.dumps({"approvedBy": who, "reason": reason}))
    else:
        states.send_task_failure(taskToken=token, error="ApprovalRejected", cause=f"rejected by {who}: {reason}"[:256])


def pending_approval_token(states: Any, execution_arn: str) -> str:
    """The task token of an execution waiting at WaitForApproval (from its history)."""
    for event in reversed(history(states, execution_arn)):
        details = event.get("taskScheduledEventDetails")
        if details and "taskToken" in details.get("parameters", ""):
            token = json.loads(details["parameters"]).get("Payload", {}).get("taskToken")
            if token:
                return str(token)
    raise CliError(f"execution {execution_arn} is not waiting for approval")
