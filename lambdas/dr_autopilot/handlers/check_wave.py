"""Handler of the CheckWave state (recovery plans in waves only)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.check_wave import check_wave
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.CHECK_WAVE)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    result = check_wave(state, settings().config, dependencies.provider(), dependencies.reachability())
    if result.ready:
        progress.notify(dependencies.publisher(), progress.wave_ready(state.request, result))
    logger.info("Wave checked", extra={"wave": result.wave, "ready": result.ready, "detail": result.detail})
    return result.dump()
