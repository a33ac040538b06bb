"""ReportEnd: the one final message of an execution that the workflow could not report itself.

Step Functions announces every end of an execution (EventBridge "Execution Status Change"). An
execution that timed out or was aborted never reaches ReportFailure, and one can fail before or
while reporting (input refused, the report itself failing). This reads the execution's history:
if the workflow already sent its final message it does nothing; otherwise it says, from the last
state the workflow recorded, what was and was not changed, and ends the run's hold on the lock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from dr_autopilot import history
from dr_autopilot.config import FailoverConfig
from dr_autopilot.logic.final_message import FinalMessenger
from dr_autopilot.logic.lock import clean_up_after_report
from dr_autopilot.logic.report import failure_summary, publish
from dr_autopilot.models import EndedExecution, ErrorInfo, FailoverSummary, WorkflowState
from dr_autopilot.ports import DnsRecords, FailoverLock, RecoveryProvider
from dr_autopilot.states import StateName

REPORTING_STATES = {StateName.REPORT_SUCCESS, StateName.REPORT_FAILURE}
END_ERRORS = {
    "TIMED_OUT": ("States.Timeout", "the execution reached workflowTimeoutSeconds"),
    "ABORTED": ("ExecutionAborted", "the execution was stopped"),
}


def already_reported(events: list[dict[str, Any]]) -> bool:
    """Did the workflow send its final message (a report step finished, or the lock told an
    alarm or console start that another failover holds it)?"""
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details["name"] in REPORTING_STATES:
            # A report step that failed is left through its Catch too: it only counts with its summary.
            output = json.loads(details.get("output") or "null")
            if isinstance(output, dict) and "summary" in output and "reportError" not in output:
                return True
    lock = history.last_result(events, StateName.ACQUIRE_LOCK, "lock")
    return lock is not None and not lock.get("acquired", False)


def last_state(events: list[dict[str, Any]]) -> WorkflowState | None:
    """The workflow state as the last finished step left it (None if no request was accepted)."""
    for event in reversed(events):
        details = event.get("stateExitedEventDetails")
        if details:
            output = json.loads(details.get("output") or "null")
            if isinstance(output, dict) and "request" in output:
                return WorkflowState.model_validate(output)
    return None


def in_flight(events: list[dict[str, Any]]) -> str | None:
    """The state that was entered and never left (cut short by the end), if any."""
    open_state = None
    for event in events:
        if "stateEnteredEventDetails" in event:
            open_state = event["stateEnteredEventDetails"]["name"]
        elif "stateExitedEventDetails" in event:
            open_state = None
    return open_state


def report_end(
    ended: EndedExecution,
    events: list[dict[str, Any]],
    config: FailoverConfig,
    records: DnsRecords,
    provider: Callable[[], RecoveryProvider],
    lock: FailoverLock,
    messenger: FinalMessenger,
) -> FailoverSummary | None:
    """Send the final message the execution lacks; None if it needs none (or it was sent already:
    a report step that published and then failed, an end event delivered twice)."""
    if ended.status not in ("FAILED", "TIMED_OUT", "ABORTED") or already_reported(events):
        return None
    state = last_state(events)
    if state is None:  # refused before a request existed: nothing was started
        cause = history.error_message(ended.cause) or "no details"
        messenger.send(
            ended.execution_arn,
            "[DR Autopilot] failover input refused",
            f"Execution {ended.name} was refused before anything happened ({ended.error}): {cause}\n\n"
            "Nothing was launched and DNS was not changed.",
        )
        return None
    error, cause = END_ERRORS.get(ended.status, (ended.error or "States.Unknown", ended.cause or "no details"))
    outcome: Literal["FAILED", "TIMED_OUT", "ABORTED"] = (
        "TIMED_OUT" if ended.status == "TIMED_OUT" else "ABORTED" if ended.status == "ABORTED" else "FAILED"
    )
    ended_state = state.model_copy(update={"error": ErrorInfo(Error=ended.error or error, Cause=ended.cause or cause)})
    summary = failure_summary(ended_state, config.dns, records, provider, outcome=outcome, in_flight=in_flight(events))
    sent = publish(summary, ended_state, messenger)
    clean_up_after_report(ended_state, config, lock, messenger.publisher)  # also when a report step died
    return summary if sent else None
