"""Handler of the CleanUpDrill state: put the drill record back and terminate the drill's instances."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.clean_up_drill import clean_up_drill
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.states import StateName


@instrumented(StateName.CLEAN_UP_DRILL)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    result = clean_up_drill(state, dependencies.provider(), dependencies.dns_records())
    metrics.add_metric(name="DrillInstancesTerminated", unit="Count", value=result.instances_terminated)
    logger.info(
        "Drill cleaned up",
        extra={"terminated": result.instances_terminated, "record": result.record.value, "jobs": result.cleanup_jobs},
    )
    return result.dump()
