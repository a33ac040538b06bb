"""Continuous readiness: the verdict of a readiness run (a dry run the schedule starts).

A readiness run makes every check a recovery makes before its launch, in recovery mode, without
a lock. Its verdict is "ready" only if every check passed and every machine is ready; otherwise
it names why a recovery started now would be refused: the machines that are not ready (with
their reasons, e.g. the lag), or the check that failed. The verdict is kept (best effort) for
`dr-autopilot status` and becomes the metrics of the readiness alarm.
"""

from __future__ import annotations

from dr_autopilot.errors import ServiceUnavailable
from dr_autopilot.models import MAX_LINE, ReadinessVerdict, WorkflowState
from dr_autopilot.observability import logger
from dr_autopilot.ports import ReadinessRecord


def readiness_verdict(state: WorkflowState, failure: tuple[str, str] | None = None) -> ReadinessVerdict:
    """The verdict of the checks in `state`; `failure` is (error name, message) of a check that failed."""
    replication = state.replication
    reasons = []
    if replication is not None:
        reasons = [f"{p.name}: {', '.join(p.reasons)}"[:MAX_LINE] for p in replication.problems]
        unlisted = replication.not_ready - len(replication.problems)
        if unlisted > 0:
            reasons.append(f"and {unlisted} more machine(s) not {replication.ready_means}")
    if failure is not None:
        name, message = failure
        reasons.append(f"{name}: {message}"[:MAX_LINE])
    elif replication is None:  # never: every path to a verdict checks replication first
        reasons.append("replication was not checked")
    return ReadinessVerdict(
        ready=not reasons,
        # When the site was seen as it is judged (not when the report ran): a slow run's verdict
        # never replaces a later one's (found by the red team).
        checked_at=(replication.observed_at if replication and replication.observed_at else state.request.started_at),
        execution_id=state.request.execution_id,
        execution_name=state.request.execution_name,
        total_machines=replication.total if replication else None,
        ready_machines=replication.ready if replication else None,
        max_lag_seconds=replication.max_lag_seconds if replication else None,
        reasons=reasons,
    )


def keep_verdict(verdict: ReadinessVerdict, record: ReadinessRecord) -> None:
    """Keep the verdict for `dr-autopilot status`. Best effort: the final message and the metrics
    carry it too, so a table that is down must not turn a verdict into a failed run."""
    try:
        if not record.record(verdict):
            logger.info("A later readiness verdict is kept already", extra={"execution": verdict.execution_id})
    except ServiceUnavailable as error:
        logger.warning("Readiness verdict not kept", extra={"error": str(error)})
