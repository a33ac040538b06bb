"""Handler of the HealthCheck state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.health_check import health_check
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.HEALTH_CHECK)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    result = health_check(state, settings().config, dependencies.landing_page_probe())
    if result.healthy:
        progress.notify(dependencies.publisher(), progress.target_healthy(state.request, result))
    logger.info(
        "Landing page probed", extra={"healthy": result.healthy, "attempt": result.attempts, "detail": result.detail}
    )
    return result.dump()
