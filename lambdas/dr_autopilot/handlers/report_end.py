"""Handler of ReportEnd: Step Functions' "Execution Status Change" events (EventBridge) for ends
the workflow could not report itself (timed out, aborted, failed before or while reporting)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.report_end import report_end
from dr_autopilot.models import ExecutionStatusChange
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import Watcher


@instrumented(Watcher.REPORT_END)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    announced = ExecutionStatusChange.model_validate(event).detail
    logger.set_correlation_id(announced.execution_arn)
    executions = dependencies.execution_history()
    # The event is only a prompt: what counts is the execution's status now (a redriven run is
    # running again, and must neither be reported as failed nor lose its lock).
    ended = announced.model_copy(update={"status": executions.status(announced.execution_arn)})
    summary = report_end(
        ended,
        executions.events(ended.execution_arn),
        settings().config,
        dependencies.dns_records(),
        dependencies.provider,
        dependencies.failover_lock(),
        dependencies.final_messenger(context),
    )
    if summary is not None:
        metrics.add_metric(name="UnreportedEndsReported", unit="Count", value=1)
    logger.info("Execution ended", extra={"status": ended.status, "reported_here": summary is not None})
    return summary.dump() if summary else {"reported": False}
