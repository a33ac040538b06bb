"""Handler of the CheckDnsRecord state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.check_dns_record import check_dns_record
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.CHECK_DNS_RECORD)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    checked = check_dns_record(WorkflowState.model_validate(event), settings().config, dependencies.dns_records())
    logger.info("DNS record checked", extra={"zone": checked.zone_name, "record": checked.record_name})
    return checked.dump()
