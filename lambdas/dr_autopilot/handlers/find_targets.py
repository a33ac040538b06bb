"""Handler of the FindTargets state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.find_targets import find_targets
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.FIND_TARGETS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    config = settings().config
    target = find_targets(
        state, dependencies.provider(), config.dns, dependencies.dns_records(), config.webserver_machine, config.waves
    )
    logger.info("Recovered webserver found", extra={"address": target.address, "source": target.address_source})
    return target.dump()
