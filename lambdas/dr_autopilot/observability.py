"""Logger, Tracer and Metrics, created once for every function."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.utilities.typing import LambdaContext

SERVICE = "dr-autopilot"
NAMESPACE = "DrAutopilot"

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)


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


Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def instrumented(handler: Handler) -> Handler:
    """What every handler wears, in Powertools' documented order: Lambda context on every log
    line (with the execution id as correlation id), tracing, and metrics flushed at the end."""

    @functools.wraps(handler)
    def correlated(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        correlate(event)
        return handler(event, context)

    wrapped = logger.inject_lambda_context(tracer.capture_lambda_handler(metrics.log_metrics(correlated)))
    return functools.wraps(handler)(wrapped)
