"""Handler of the LaunchRecovery state: idempotent per execution (Powertools idempotency).

A retried or re-driven LaunchRecovery of the same execution returns the stored result instead
of launching again. While an earlier attempt's in-progress record holds (that attempt runs on,
or died after launching), the step fails with LaunchInProgress, which the workflow retries past
the function's timeout; then the provider adopts the job that attempt started
(see CloudEndureProvider.launch).
"""

from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.errors import LaunchInProgress
from dr_autopilot.logic import progress
from dr_autopilot.logic.launch_recovery import launch_recovery
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


def launch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    waves = settings().config.waves
    result = launch_recovery(state, dependencies.provider(), dependencies.failover_lock(), waves)
    if not result.adopted:
        progress.notify(dependencies.publisher(), progress.launch_started(state.request, result))
    metrics.add_metric(name="LaunchesStarted", unit="Count", value=0 if result.adopted else 1)
    logger.info(
        "Launch job started",
        extra={"job_id": result.job_id, "launch_type": result.launch_type, "adopted": result.adopted},
    )
    return result.dump()


@instrumented(StateName.LAUNCH_RECOVERY)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        return dependencies.once_per_execution(launch)(event, context)
    except IdempotencyAlreadyInProgressError as error:
        raise LaunchInProgress(
            "an earlier attempt of this execution's launch is in progress or died after starting; "
            "retried until its window is over, then its job is adopted"
        ) from error
