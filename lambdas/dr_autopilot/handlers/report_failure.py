"""Handler of the ReportFailure state: say loudly what failed and what was and was not changed."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.clients.lock import FailoverLock
from dr_autopilot.clients.route53 import Route53Records
from dr_autopilot.clients.sns import Notifier
from dr_autopilot.logic.lock import release_lock
from dr_autopilot.logic.report import failure_summary, publish
from dr_autopilot.models import WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.settings import settings


@instrumented
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = settings().config
    state = WorkflowState.model_validate(event)
    summary = failure_summary(state, config.dns, Route53Records(config.dns.hosted_zone_id))
    release_lock(state, settings().config, FailoverLock(settings().lock_table or ""))
    publish(summary, state, Notifier(settings().topic_arn or ""))
    metrics.add_metric(name="FailoversFailed", unit="Count", value=1)
    logger.error("Failover failed", extra={"error": summary.error, "headline": summary.headline})
    return summary.dump()
