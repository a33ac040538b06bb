"""Handler of the WaitForApproval state: ask on-call staff, with the task token to answer with.

The state waits for `SendTaskSuccess` / `SendTaskFailure` (CLI: `dr-autopilot approve|reject`);
this function only sends the request.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.WAIT_FOR_APPROVAL)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event["state"])
    trigger = settings().config.trigger
    assert trigger is not None  # the workflow has this state only when a trigger is configured
    message = progress.approval_requested(
        state.request, str(event["taskToken"]), trigger.approval_timeout_seconds, trigger.on_approval_timeout
    )
    progress.notify(dependencies.publisher(), message)
    logger.info("Approval requested", extra={"timeout_seconds": trigger.approval_timeout_seconds})
    return {"requested": True}
