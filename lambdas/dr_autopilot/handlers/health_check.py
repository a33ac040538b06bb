"""Handler of the HealthCheck state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.logic.health_check import health_check
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import correlate, logger, metrics, tracer
from dr_autopilot.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    result = health_check(WorkflowState.model_validate(event), settings().config.health_check)
    logger.info(
        "Landing page probed", extra={"healthy": result.healthy, "attempt": result.attempts, "detail": result.detail}
    )
    return result.dump()
