"""Handler of the FindTargets state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.logic.find_targets import find_targets
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import correlate, logger, metrics, tracer
from dr_autopilot.providers import provider
from dr_autopilot.settings import settings


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    correlate(event)
    target = find_targets(WorkflowState.model_validate(event), provider(), settings().config.dns)
    logger.info("Recovered webserver found", extra={"address": target.address, "source": target.address_source})
    return target.dump()
