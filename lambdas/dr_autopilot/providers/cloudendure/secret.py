"""The CloudEndure API token, read from Secrets Manager (cached briefly by Powertools)."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities import parameters

from dr_autopilot.errors import AuthenticationFailed

TOKEN_CACHE_SECONDS = 300


def api_token(secret_name: str, fresh: bool = False) -> str:
    """The API token: the secret's plain string, or its {"userApiToken": ...} member. `fresh`
    reads the secret again instead of using the cached value (after a 401: it may have rotated)."""
    try:
        secret = parameters.get_secret(secret_name, max_age=TOKEN_CACHE_SECONDS, force_fetch=fresh)
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
