"""Logger, Tracer and Metrics, created once for every function."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

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
