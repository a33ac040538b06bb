"""HTTP probe of the recovered webserver's landing page (`probe` satisfies `ports.Probe`).

Honest by construction: what is judged is the answer of the probed address itself. A redirect is
followed only while it stays on that address (another path, port or scheme of the same
instance); a redirect to any other host or address is unhealthy, even if that page would pass,
because DNS is about to point at the probed address, not at wherever it sends visitors.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin

import requests
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from dr_autopilot.ports import ProbeResult

MAX_REDIRECTS = 5
HEADERS = {"User-Agent": "dr-autopilot-health-check"}


def probe(url: str, expected_text: str, timeout_seconds: float) -> ProbeResult:
    """GET `url`: healthy only on 200 with `expected_text` in the body, from the probed address,
    within the timeout (for the whole probe, redirects included)."""
    started = time.monotonic()
    address = _host(url)
    current = url
    with requests.Session() as session:
        for _ in range(MAX_REDIRECTS + 1):
            left = timeout_seconds - (time.monotonic() - started)
            try:
                if left <= 0:
                    raise requests.Timeout
                response = session.get(current, timeout=left, allow_redirects=False, headers=HEADERS)
            except requests.Timeout:
                return ProbeResult(False, None, f"no answer within {timeout_seconds:g}s", time.monotonic() - started)
            except requests.RequestException as error:
                detail = f"connection failed: {type(error).__name__}"
                return ProbeResult(False, None, detail, time.monotonic() - started)
            if not response.is_redirect:
                return _judge(response, expected_text, time.monotonic() - started)
            current = urljoin(current, response.headers["Location"])
            elsewhere = _host(current)
            if elsewhere is None or elsewhere != address:
                detail = f"HTTP {response.status_code} redirects to {elsewhere}, not the probed address {address}"
                return ProbeResult(False, response.status_code, detail, time.monotonic() - started)
    return ProbeResult(False, None, f"more than {MAX_REDIRECTS} redirects", time.monotonic() - started)


def _host(url: str) -> str | None:
    """The host a request to `url` really connects to (urllib3's reading, which requests uses),
    or None when parsers could disagree about it (a backslash, user info): never followed."""
    if "\\" in url or "@" in url.split("//", 1)[-1].split("/", 1)[0]:
        return None
    try:
        host = parse_url(url).host
    except LocationParseError:
        return None
    return host.lower().rstrip(".") if host else None


def _judge(response: requests.Response, expected_text: str, elapsed: float) -> ProbeResult:
    if response.status_code != 200:
        return ProbeResult(False, response.status_code, f"HTTP {response.status_code}", elapsed)
    if expected_text not in response.text:
        return ProbeResult(False, 200, f"HTTP 200 but the page lacks {expected_text!r}", elapsed)
    return ProbeResult(True, 200, f"HTTP 200 with {expected_text!r} in {elapsed * 1000:.0f} ms", elapsed)
