"""boto3 clients with the standard retry mode, created lazily and reused across invocations."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


@cache
def client(service: str, region: str | None = None) -> Any:
    """The `service` client of `region` (None: the Lambda's own region)."""
    return boto3.client(service, region_name=region, config=RETRY_CONFIG)
