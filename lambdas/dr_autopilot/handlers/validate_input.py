"""Handler of the ValidateInput state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import ValidateInputEvent
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.states import StateName


@instrumented(StateName.VALIDATE_INPUT)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = validate_input(ValidateInputEvent.model_validate(event))
    if not request.readiness:  # the schedule's runs are not failovers people started
        metrics.add_metric(name="FailoversStarted", unit="Count", value=1)
    logger.info(
        "Failover requested",
        extra={"mode": request.mode, "trigger": request.trigger, "requested_by": request.requested_by},
    )
    return request.dump()
