"""Handler of the AcquireLock state: one failover per outage."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.lock import acquire_lock
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.ACQUIRE_LOCK)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    result = acquire_lock(state, settings().config, dependencies.failover_lock(), dependencies.execution_history())
    if result.acquired:
        if not state.request.readiness:  # a readiness run says one thing, at its end: its verdict
            progress.notify(dependencies.publisher(), progress.started(state.request, result))
    elif state.request.trigger == "alarm":
        metrics.add_metric(name="DuplicateAlarmsSuppressed", unit="Count", value=1)
        progress.notify(dependencies.publisher(), progress.deduplicated(state.request, result))
    else:  # a person asked: the refusal is this run's final message, sent once (or the step fails)
        subject, body = progress.refused(state.request, result)
        dependencies.final_messenger(context).send(state.request.execution_id, subject, body)
    logger.info(
        "Failover lock", extra={"acquired": result.acquired, "holder": result.holder, "suppressed": result.suppressed}
    )
    return result.dump()
