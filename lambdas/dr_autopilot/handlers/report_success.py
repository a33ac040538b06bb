"""Handler of the ReportSuccess state (also ends a dry run, and a readiness run's checks)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.lock import clean_up_after_report
from dr_autopilot.logic.readiness import keep_verdict
from dr_autopilot.logic.report import publish, success_summary
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, measure_readiness, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.REPORT_SUCCESS)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    summary = success_summary(state)
    publish(summary, state, dependencies.final_messenger(context))  # the final message first; clean-up after it
    clean_up_after_report(state, settings().config, dependencies.failover_lock(), dependencies.publisher())
    if summary.readiness is not None:
        keep_verdict(summary.readiness, dependencies.readiness_record())
        measure_readiness(summary.readiness)
    if "dnsInsync" in summary.timeline:
        rto = (summary.timeline["dnsInsync"] - summary.timeline["started"]).total_seconds()
        metrics.add_metric(name="RecoveryTimeSeconds", unit="Seconds", value=rto)
    logger.info("Failover finished", extra={"outcome": summary.outcome})
    return summary.dump()
