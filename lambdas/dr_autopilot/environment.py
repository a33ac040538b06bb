"""The names of the functions' environment variables: written by the stack, read by the settings.

One place for each name, so the side that writes a variable and the side that reads it cannot
drift apart.
"""

from __future__ import annotations

from enum import StrEnum


class Variable(StrEnum):
    CONFIG = "DR_AUTOPILOT_CONFIG"
    TOPIC_ARN = "NOTIFICATION_TOPIC_ARN"
    LOCK_TABLE = "LOCK_TABLE_NAME"
    IDEMPOTENCY_TABLE = "IDEMPOTENCY_TABLE_NAME"


# Powertools reads these itself (service name, metrics namespace, log level).
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"
