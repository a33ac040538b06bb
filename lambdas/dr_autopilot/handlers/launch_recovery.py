"""Handler of the LaunchRecovery state: idempotent per execution (Powertools idempotency).

A retried or re-driven LaunchRecovery of the same execution returns the stored result instead
of launching again; if an earlier attempt crashed after launching, the provider adopts the job
that attempt started (see CloudEndureProvider.launch).
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.launch_recovery import launch_recovery
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.states import StateName


def launch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    result = launch_recovery(state, dependencies.provider())
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
    return dependencies.once_per_execution(launch)(event, context)
