"""Handler of the UpdateDns state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.update_dns import update_dns
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.UPDATE_DNS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings().config
    state = WorkflowState.model_validate(event)
    result = update_dns(
        state, config.dns, config.health_check, dependencies.dns_records(), dependencies.failover_lock()
    )
    progress.notify(dependencies.publisher(), progress.dns_switched(state.request, result))
    if not result.skipped:
        metrics.add_metric(name="DnsSwitched", unit="Count", value=1)
    logger.info("DNS updated", extra={"skipped": result.skipped, "change_id": result.change_id})
    return result.dump()
