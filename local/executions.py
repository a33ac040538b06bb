"""Executions of the deployed state machine in local AWS: start, wait (handing new history events
to a watcher), and deliver EventBridge events to the synthesized rules."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr_autopilot import history
from dr_autopilot.states import StateName

from dr_autopilot_cli import operations
from dr_autopilot_cli.operations import CliError
from local.aws import ACCOUNT, Deployment, LocalAws, resolve
from local.events import execution_status_event, matches, transform


@dataclass
class ExecutionResult:
    arn: str
    name: str
    status: str
    started: datetime
    stopped: datetime | None
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    events: list[dict[str, Any]] = field(default_factory=list)
    end_reports: list[dict[str, Any]] = field(default_factory=list)  # what ReportEnd answered, if it ran

    @property
    def entered_states(self) -> list[str]:
        return history.entered_states(self.events)

    def state_outputs(self, state: StateName) -> list[dict[str, Any]]:
        return history.state_outputs(self.events, state)


class Executions:
    """The executions of one deployment."""

    def __init__(self, aws: LocalAws, deployment: Deployment, template: dict[str, Any]) -> None:
        self._aws = aws
        self._deployment = deployment
        self._template = template
        self._states = aws.client("stepfunctions")

    def start(self, failover_input: dict[str, Any] | str, name: str | None = None) -> str:
        body = failover_input if isinstance(failover_input, str) else json.dumps(failover_input)
        return str(
            self._states.start_execution(
                stateMachineArn=self._deployment.state_machine_arn,
                name=name or f"failover-{uuid.uuid4().hex[:12]}",
                input=body,
            )["executionArn"]
        )

    def history(self, arn: str) -> list[dict[str, Any]]:
        return history.history(self._states, arn)

    def wait_until_entered(self, arn: str, state: str, timeout: float = 60) -> None:
        """Wait until the execution has entered `state` (TimeoutError if it does not in time)."""
        deadline = time.monotonic() + timeout
        while state not in history.entered_states(self.history(arn)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {arn} never reached {state}")
            time.sleep(0.1)

    def wait(
        self,
        arn: str,
        timeout: float = 300,
        on_events: Callable[[list[dict[str, Any]]], None] | None = None,
        interval: float = 0.2,
        deliver_end: bool = True,
        end_hold_as: str | None = None,
    ) -> ExecutionResult:
        """Wait for the execution to end, handing new history events to `on_events` as they appear.
        With `deliver_end` False, its end event is lost (as an EventBridge delivery can be). With
        `end_hold_as`, a drill's hold is ended at once by that person, as `dr-autopilot
        drill-cleanup` would (otherwise it lasts its drill.holdMinutes)."""
        deadline, seen, hold_ended = time.monotonic() + timeout, 0, False
        while True:
            description = self._states.describe_execution(executionArn=arn)
            finished = description["status"] != "RUNNING"
            if on_events is not None or (end_hold_as and not hold_ended):
                events = self.history(arn)
                if on_events is not None and len(events) > seen:
                    on_events(events[seen:])
                    seen = len(events)
                if end_hold_as and not hold_ended and not finished and self._waits_at_hold(arn):
                    operations.end_drill_hold(self._states, arn, end_hold_as)
                    hold_ended = True
            if finished:
                break
            if time.monotonic() > deadline:
                self._states.stop_execution(
                    executionArn=arn, error="DrillTimeout", cause=f"no result within {timeout:.0f}s"
                )
                raise TimeoutError(f"execution {arn} still running after {timeout:.0f}s")
            time.sleep(interval)
        # As EventBridge would: the end of the execution goes to the rules that watch for it.
        end_reports = (
            self.deliver_event(execution_status_event(description, ACCOUNT, self._aws.region)) if deliver_end else []
        )
        output = description.get("output")
        return ExecutionResult(
            arn=arn,
            name=description["name"],
            status=description["status"],
            started=description["startDate"],
            stopped=description.get("stopDate"),
            output=json.loads(output) if output else None,
            error=description.get("error"),
            cause=description.get("cause"),
            events=self.history(arn),
            end_reports=[report for report in end_reports if isinstance(report, dict)],
        )

    def end_hold(self, arn: str, who: str, timeout: float = 60) -> None:
        """End the drill's hold as `who` once the execution waits there (as `dr-autopilot drill-cleanup`)."""
        deadline = time.monotonic() + timeout
        while not self._waits_at_hold(arn):
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {arn} never waited at {StateName.HOLD_DRILL}")
            time.sleep(0.1)
        operations.end_drill_hold(self._states, arn, who)

    def _waits_at_hold(self, arn: str) -> bool:
        try:
            operations.pending_task_token(self._states, arn, StateName.HOLD_DRILL)
        except CliError:
            return False
        return True

    def _invoke(self, function_arn: str, event: dict[str, Any]) -> dict[str, Any]:
        answer = self._aws.client("lambda").invoke(FunctionName=function_arn, Payload=json.dumps(event).encode())
        body = json.loads(answer["Payload"].read() or b"null")
        return {"error": body} if answer.get("FunctionError") else body

    def run(self, failover_input: dict[str, Any] | str, timeout: float = 300, **wait_options: Any) -> ExecutionResult:
        """Start an execution and wait for its end."""
        return self.wait(self.start(failover_input), timeout=timeout, **wait_options)

    def scheduled_input(self) -> str:
        """The input the synthesized EventBridge Scheduler schedule starts this state machine with,
        exactly as the template carries it (Scheduler does not run locally: the drill and the tests
        start the run as the schedule would). LookupError if the template has no such schedule."""
        ids = self._deployment.physical_ids(self._template, self._aws.region)
        for schedule in self._template["Resources"].values():
            if schedule["Type"] != "AWS::Scheduler::Schedule":
                continue
            props = resolve(schedule["Properties"], ids, self._aws.region)
            if (
                props.get("State", "ENABLED") == "ENABLED"
                and props["Target"]["Arn"] == self._deployment.state_machine_arn
            ):
                return str(props["Target"]["Input"])
        raise LookupError("the template has no enabled schedule that starts the state machine (readiness.enabled?)")

    def deliver_event(self, event: dict[str, Any]) -> list[Any]:
        """Hand an event to the synthesized EventBridge rules: a matching rule that targets the
        state machine starts an execution with its transformer's input (its ARN is returned); one
        that targets a function invokes it with the event (its answer is returned)."""
        started: list[Any] = []
        resources = self._template["Resources"]
        ids = self._deployment.physical_ids(self._template, self._aws.region)
        for rule in (r for r in resources.values() if r["Type"] == "AWS::Events::Rule"):
            props = resolve(rule["Properties"], ids, self._aws.region)
            if props.get("State", "ENABLED") != "ENABLED" or not matches(props["EventPattern"], event):
                continue
            for target in props.get("Targets", []):
                if target["Arn"] == self._deployment.state_machine_arn:
                    started.append(self.start(transform(target["InputTransformer"], event)))
                elif ":function:" in target["Arn"]:
                    started.append(self._invoke(target["Arn"], event))
        return started
