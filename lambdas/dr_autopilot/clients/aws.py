"""boto3 clients with the standard retry mode, created lazily and reused across invocations."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)


def client(service: str, region: str | None = None) -> Any:
    """The `service` client of `region` (None: the Lambda's own region), one per endpoint: boto3
    reads a service's endpoint from AWS_ENDPOINT_URL_<SERVICE> when it makes the client, so a
    client made for one endpoint is never reused for another (the local drill's emulators)."""
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
    return _client(service, region, endpoint)


@cache
def _client(service: str, region: str | None, endpoint: str | None) -> Any:
    return boto3.client(service, region_name=region, config=RETRY_CONFIG)
