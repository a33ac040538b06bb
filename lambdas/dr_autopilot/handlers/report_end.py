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
    ended = ExecutionStatusChange.model_validate(event).detail
    logger.set_correlation_id(ended.execution_arn)
    summary = report_end(
        ended,
        dependencies.execution_history().events(ended.execution_arn),
        settings().config,
        dependencies.dns_records(),
        dependencies.failover_lock(),
        dependencies.publisher(),
    )
    if summary is not None:
        metrics.add_metric(name="UnreportedEndsReported", unit="Count", value=1)
    logger.info("Execution ended", extra={"status": ended.status, "reported_here": summary is not None})
    return summary.dump() if summary else {"reported": False}
