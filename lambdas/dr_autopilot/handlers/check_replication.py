"""Handler of the CheckReplication state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.check_replication import check_replication
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.states import StateName


@instrumented(StateName.CHECK_REPLICATION)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    report = check_replication(state, dependencies.provider())
    if not state.request.readiness:  # a readiness run's verdict is its final message
        progress.notify(dependencies.publisher(), progress.replication_verdict(state.request, report))
    if report.max_lag_seconds is not None:
        metrics.add_metric(name="ReplicationLagSeconds", unit="Seconds", value=report.max_lag_seconds)
    logger.info("Replication checked", extra={"ready": report.ready, "total": report.total, "forced": report.forced})
    return report.dump()
