"""Logger, Tracer and Metrics, created once for every function, and what every handler wears."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot.states import StateName, Watcher

if TYPE_CHECKING:
    from dr_autopilot.models import ReadinessVerdict

SERVICE = "dr-autopilot"
NAMESPACE = "DrAutopilot"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


class ReadinessMetric(StrEnum):
    """The metrics of a readiness run (the readiness alarm and the dashboard read them by name)."""

    FAILOVER_READY = "FailoverReady"  # 1: a recovery now would pass every check; 0: it would be refused
    READY_MACHINES = "ReadyMachines"
    MAX_REPLICATION_LAG = "MaxReplicationLagSeconds"


def measure_readiness(verdict: ReadinessVerdict) -> None:
    """The verdict as metrics, flushed (EMF) when the handler returns; what was not measured (the
    replication check itself failed) is left out rather than written as 0."""
    metrics.add_metric(name=ReadinessMetric.FAILOVER_READY, unit="Count", value=1 if verdict.ready else 0)
    if verdict.ready_machines is not None:
        metrics.add_metric(name=ReadinessMetric.READY_MACHINES, unit="Count", value=verdict.ready_machines)
    if verdict.max_lag_seconds is not None:
        metrics.add_metric(name=ReadinessMetric.MAX_REPLICATION_LAG, unit="Seconds", value=verdict.max_lag_seconds)


Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def correlate(event: Any) -> None:
    """Make the Step Functions execution id the correlation id of every log line."""
    execution_id = None
    if isinstance(event, dict):
        request = event.get("request")
        if isinstance(request, dict):
            execution_id = request.get("executionId")
        execution = event.get("execution")
        if execution_id is None and isinstance(execution, dict):
            execution_id = execution.get("id")
    if isinstance(execution_id, str):
        logger.set_correlation_id(execution_id)


def instrumented(state: StateName | Watcher) -> Callable[[Handler], Handler]:
    """What the handler of `state` wears, in Powertools' documented order: Lambda context on every
    log line (with the execution id as correlation id), tracing, metrics flushed at the end; and,
    before anything else, the check that the function has every setting its state needs."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def checked(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
            from dr_autopilot.dependencies import check_needs  # builds clients: not at import time

            correlate(event)
            check_needs(state)
            return handler(event, context)

        wrapped = logger.inject_lambda_context(tracer.capture_lambda_handler(metrics.log_metrics(checked)))
        return functools.wraps(handler)(wrapped)

    return decorate
