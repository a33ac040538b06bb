"""Handler of the ChooseRecoveryPoint state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.choose_recovery_point import choose_recovery_point
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.states import StateName


@instrumented(StateName.CHOOSE_RECOVERY_POINT)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    point = choose_recovery_point(WorkflowState.model_validate(event), dependencies.provider())
    logger.info("Recovery point chosen", extra={"requested": str(point.requested), "machines": point.machine_count})
    return point.dump()
