"""Recovery providers: the systems that replicate machines and launch them in AWS.

`provider_for(settings)` builds the configured one; the workflow only sees `RecoveryProvider`.
"""

from __future__ import annotations

import json
from functools import cache

from aws_lambda_powertools.utilities import parameters

from dr_autopilot.clients.ec2 import InstanceDirectory
from dr_autopilot.errors import AuthenticationFailed
from dr_autopilot.providers.base import RecoveryProvider
from dr_autopilot.settings import Settings, settings

TOKEN_CACHE_SECONDS = 300


def _api_token(secret_name: str) -> str:
    """The CloudEndure API token from Secrets Manager: a plain string or {"userApiToken": ...}."""
    try:
        secret = parameters.get_secret(secret_name, max_age=TOKEN_CACHE_SECONDS)
    except parameters.exceptions.GetParameterError:
        raise AuthenticationFailed(f"could not read the API token secret {secret_name!r}") from None
    text = secret.decode() if isinstance(secret, bytes) else str(secret)
    if text.lstrip().startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise AuthenticationFailed(f"secret {secret_name!r} looks like JSON but is not valid JSON") from None
        token = document.get("userApiToken") or document.get("apiToken") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationFailed(f"secret {secret_name!r} has no 'userApiToken' key")
        return token
    return text.strip()


def provider_for(settings: Settings) -> RecoveryProvider:
    from dr_autopilot.providers.cloudendure.client import CloudEndureClient, RetrySettings
    from dr_autopilot.providers.cloudendure.provider import CloudEndureProvider

    cloudendure = settings.config.cloudendure
    assert cloudendure is not None
    client = CloudEndureClient(
        api_token=lambda: _api_token(cloudendure.api_token_secret_name),
        base_url=cloudendure.api_url,
        retry=RetrySettings(read_timeout=cloudendure.read_timeout_seconds),
    )
    return CloudEndureProvider(client, settings.config, InstanceDirectory())


@cache
def provider() -> RecoveryProvider:
    """The configured provider, kept for the life of the Lambda container (one login per container)."""
    return provider_for(settings())


__all__ = ["RecoveryProvider", "provider", "provider_for"]
