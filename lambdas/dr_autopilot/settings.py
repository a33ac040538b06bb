"""Each function's environment, parsed once per cold start into typed settings."""

from __future__ import annotations

import json
import os
from functools import cache

from pydantic import BaseModel, ConfigDict

from dr_autopilot.config import ConfigError, FailoverConfig

CONFIG_VARIABLE = "DR_AUTOPILOT_CONFIG"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    config: FailoverConfig
    topic_arn: str | None = None
    idempotency_table: str | None = None
    lock_table: str | None = None


@cache
def settings() -> Settings:
    """The function's settings; ConfigError naming the variable when one is missing or wrong."""
    raw = os.environ.get(CONFIG_VARIABLE)
    if not raw:
        raise ConfigError(f"environment variable {CONFIG_VARIABLE} is not set")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"environment variable {CONFIG_VARIABLE} is not JSON: {error.msg}") from None
    return Settings(
        config=FailoverConfig.parse(parsed, source=CONFIG_VARIABLE),
        topic_arn=os.environ.get("NOTIFICATION_TOPIC_ARN") or None,
        idempotency_table=os.environ.get("IDEMPOTENCY_TABLE_NAME") or None,
        lock_table=os.environ.get("LOCK_TABLE_NAME") or None,
    )
