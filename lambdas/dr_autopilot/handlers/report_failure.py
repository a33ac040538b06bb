"""Handler of the ReportFailure state: say loudly what failed and what was and was not changed
(for a readiness run: why a recovery now would be refused)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic.lock import clean_up_after_report
from dr_autopilot.logic.readiness import keep_verdict
from dr_autopilot.logic.report import failure_summary, publish
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, measure_readiness, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.REPORT_FAILURE)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings().config
    state = WorkflowState.model_validate(event)
    summary = failure_summary(state, config.dns, dependencies.dns_records(), dependencies.provider)
    publish(summary, state, dependencies.final_messenger(context))  # the final message first; clean-up after it
    clean_up_after_report(state, config, dependencies.failover_lock(), dependencies.publisher())
    if summary.readiness is not None:  # a verdict, not a failed failover
        keep_verdict(summary.readiness, dependencies.readiness_record())
        measure_readiness(summary.readiness)
        logger.info("Readiness checked", extra={"outcome": summary.outcome, "headline": summary.headline})
        return summary.dump()
    metrics.add_metric(name="FailoversFailed", unit="Count", value=1)
    logger.error("Failover failed", extra={"error": summary.error, "headline": summary.headline})
    return summary.dump()
