"""Pagination: `maxResults` in, `items` + an opaque `nextToken` out.

A token remembers the sort key of the last item served (not an offset), so a list that loses
items between pages (terminated recovery instances) neither repeats nor skips any, and a page
is found by bisection: O(log n + page) however long the list. A token is only good for the
request (filters, order) that produced it, as with AWS.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from local.drs.records import stable_hex
from local.drs.validation import reject

T = TypeVar("T")
PAGE_SIZE = 1000  # the default and the largest page the emulator serves (AWS does not document its own)


def paginate(items: Sequence[T], key: Callable[[T], float], request: dict[str, Any]) -> tuple[list[T], str | None]:
    """The page of `items` (sorted by ascending `key`) that the request's nextToken/maxResults ask for."""
    fingerprint = _fingerprint(request)
    start = 0
    token = request.get("nextToken")
    if token:
        start = bisect.bisect_right(items, _after(token, fingerprint), key=key)
    size = min(int(request.get("maxResults") or PAGE_SIZE), PAGE_SIZE)
    page = list(items[start : start + size])
    if start + size >= len(items) or not page:
        return page, None
    return page, _token(key(page[-1]), fingerprint)


def _fingerprint(request: dict[str, Any]) -> str:
    scope = {name: value for name, value in request.items() if name not in ("nextToken", "maxResults")}
    return stable_hex(json.dumps(scope, sort_keys=True, default=str), length=12)


def _token(after: float, fingerprint: str) -> str:
    raw = json.dumps({"after": after, "scope": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(token: str, fingerprint: str) -> float:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after, scope = float(decoded["after"]), decoded["scope"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise reject("nextToken", "Invalid pagination token") from error
    if scope != fingerprint:
        raise reject("nextToken", "Pagination token does not match the request's filters")
    return after
