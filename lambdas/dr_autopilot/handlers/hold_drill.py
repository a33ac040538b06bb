"""Handler of the HoldDrill state: tell on-call staff the drill site is up and how to end its hold.

The state waits for `SendTaskSuccess` (CLI: `dr-autopilot drill-cleanup EXECUTION`) or for
`drill.holdMinutes`; either way the drill is then cleaned up. This function only sends the notice.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.HOLD_DRILL)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event["state"])
    hold_minutes = settings().config.drill.hold_minutes
    message = progress.drill_held(state.request, state.dns, str(event["taskToken"]), hold_minutes)
    progress.notify(dependencies.publisher(), message)
    logger.info("Drill held", extra={"hold_minutes": hold_minutes})
    return {"held": True}
