"""Reading an execution's history: paging, what each state returned, phase spans, and following
a running execution. One module for every reader (the CLI, the drill and its report, the local
environment), over any Step Functions client (AWS, or local AWS).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr_autopilot.states import PHASE_OF_STATE, PHASES, StateName

Event = dict[str, Any]


def error_message(cause: str | None) -> str:
    """The human part of an execution's cause: a Lambda error's `errorMessage` (its JSON also
    carries the stack trace, which is for the logs, not for on-call), else the cause as it is."""
    if not cause:
        return ""
    try:
        parsed = json.loads(cause)
    except json.JSONDecodeError:
        return cause
    if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
        return str(parsed["errorMessage"])
    return cause


def history(states: Any, execution_arn: str) -> list[Event]:
    """Every event of the execution, oldest first (all pages)."""
    events: list[Event] = []
    token = None
    while True:
        page = states.get_execution_history(
            executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def entered_states(events: list[Event]) -> list[str]:
    """The names of the states entered, in order (repeats included)."""
    return [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]


def state_outputs(events: list[Event], state: StateName) -> list[dict[str, Any]]:
    """What `state` returned (the whole state after it), once per time it ran, oldest first."""
    outputs = []
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details["name"] == state:
            outputs.append(json.loads(details["output"]))
    return outputs


def last_result(events: list[Event], state: StateName, key: str) -> dict[str, Any] | None:
    """The part `key` of the state after the last run of `state` (None if it never ran)."""
    outputs = state_outputs(events, state)
    value = outputs[-1].get(key) if outputs else None
    return value if isinstance(value, dict) else None


def summary(events: list[Event]) -> dict[str, Any]:
    """The summary the report step wrote ({} if the execution never got there)."""
    for state in (StateName.REPORT_SUCCESS, StateName.REPORT_FAILURE):
        found = last_result(events, state, "summary")
        if found is not None:
            return found
    return {}


def phase_spans(events: list[Event]) -> list[tuple[str, float]]:
    """Seconds spent in each phase's states (every visit counted: a recovery plan passes the
    launch, the job and the wave check once per wave), by phase key, in the phases' order
    (phases the execution never reached are left out)."""
    spans: dict[str, float] = {}
    open_state: tuple[str, datetime] | None = None
    for event in events:
        if "stateEnteredEventDetails" in event:
            open_state = (event["stateEnteredEventDetails"]["name"], event["timestamp"])
        elif "stateExitedEventDetails" in event and open_state:
            name, entered = open_state
            phase = PHASE_OF_STATE.get(name)
            if phase is not None:
                spans[phase.key] = spans.get(phase.key, 0.0) + (event["timestamp"] - entered).total_seconds()
            open_state = None
    return [(phase.key, spans[phase.key]) for phase in PHASES if phase.key in spans]


@dataclass
class Progress:
    """What a follower shows: the current phase, phases entered and job-log lines since the last
    look, and the end."""

    phase: str = PHASES[0].key
    phase_index: int = 0
    new_lines: list[str] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)  # phase keys entered since the last look, in order
    status: str = "RUNNING"
    error: str | None = None
    cause: str | None = None
    output: dict[str, Any] | None = None


def follow(
    states: Any, execution_arn: str, interval: float = 1.0, sleep: Callable[[float], None] = time.sleep
) -> Iterator[Progress]:
    """Yield progress each time something new happened, until the execution ends."""
    index_of = {phase.key: index for index, phase in enumerate(PHASES)}
    seen = 0
    progress = Progress()
    while True:
        description = states.describe_execution(executionArn=execution_arn)
        events = history(states, execution_arn)
        fresh, seen = events[seen:], len(events)
        progress.new_lines, progress.entered = [], []
        for event in fresh:
            entered = event.get("stateEnteredEventDetails")
            phase = PHASE_OF_STATE.get(entered["name"]) if entered else None
            if phase is not None and phase.key != progress.phase:
                progress.phase, progress.phase_index = phase.key, index_of[phase.key]
                progress.entered.append(phase.key)
            exited = event.get("stateExitedEventDetails")
            if exited and exited["name"] == StateName.POLL_JOB:
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
