"""Handler of the PollJob state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.logic.poll_job import poll_job
from dr_autopilot.models import ProviderJobStatus, WorkflowState
from dr_autopilot.observability import correlate, logger, metrics, tracer
from dr_autopilot.providers import provider
from dr_autopilot.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    progress = poll_job(WorkflowState.model_validate(event), provider(), settings().config.job)
    for line in progress.new_log_lines:
        logger.info("Job log", extra={"line": line})
    if progress.status is ProviderJobStatus.COMPLETED:
        metrics.add_metric(name="JobDurationSeconds", unit="Seconds", value=progress.elapsed_seconds)
    return progress.dump()
