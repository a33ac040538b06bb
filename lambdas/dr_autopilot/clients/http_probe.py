"""HTTP(S) probe of the recovered webserver's landing page (`probe` satisfies `ports.Probe`).

Honest by construction: what is judged is the answer of the probed address itself. Every
request connects to that address. It asks for the site's name (`site_name`: the Host header, and
for https the SNI and the name the certificate is verified against, with the CAs of the runtime),
as visitors will once DNS points there; a bare IP has no valid certificate. A redirect is followed
only while it stays on the probed address or the site's name (another path, port or scheme of the
same instance; the site's name is still asked of the probed address, never looked up in DNS,
which points elsewhere); a redirect to any other host is unhealthy, even if that page would pass.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from dr_autopilot.ports import ProbeResult

MAX_REDIRECTS = 5
HEADERS = {"User-Agent": "dr-autopilot-health-check"}
DEFAULT_PORTS = {"http": 80, "https": 443}


class _SiteNameAdapter(HTTPAdapter):
    """Connections to the probed address that present, and verify, the site's name in TLS."""

    def __init__(self, site_name: str) -> None:
        self._site_name = site_name
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["server_hostname"] = self._site_name  # SNI
        kwargs["assert_hostname"] = self._site_name  # the certificate must be valid for the site
        super().init_poolmanager(*args, **kwargs)


def probe(url: str, expected_text: str, timeout_seconds: float, site_name: str | None = None) -> ProbeResult:
    """GET `url`: healthy only on 200 with `expected_text` in the body, from the probed address,
    within the timeout (for the whole probe, redirects included)."""
    started = time.monotonic()
    address = _host(url)
    allowed = {address, site_name}
    current = url
    with requests.Session() as session:
        if site_name:
            session.mount("https://", _SiteNameAdapter(site_name))
        for _ in range(MAX_REDIRECTS + 1):
            left = timeout_seconds - (time.monotonic() - started)
            try:
                if left <= 0:
                    raise requests.Timeout
                response = session.get(
                    current,
                    timeout=left,
                    allow_redirects=False,
                    headers={**HEADERS, **_host_header(current, site_name)},
                )
            except requests.Timeout:
                return ProbeResult(False, None, f"no answer within {timeout_seconds:g}s", time.monotonic() - started)
            except requests.exceptions.SSLError as error:
                detail = f"TLS failed for {site_name or address}: {_reason(error)}"
                return ProbeResult(False, None, detail, time.monotonic() - started)
            except requests.RequestException as error:
                detail = f"connection failed: {type(error).__name__}"
                return ProbeResult(False, None, detail, time.monotonic() - started)
            if not response.is_redirect:
                return _judge(response, expected_text, time.monotonic() - started)
            following = urljoin(current, response.headers["Location"])
            elsewhere = _host(following)
            if elsewhere is None or elsewhere not in allowed:
                detail = f"HTTP {response.status_code} redirects to {elsewhere}, not the probed address {address}"
                return ProbeResult(False, response.status_code, detail, time.monotonic() - started)
            current = _at_address(following, address or "")
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


def _at_address(url: str, address: str) -> str:
    """`url` with its host replaced by the probed address (the site's name is sent as Host/SNI)."""
    return parse_url(url)._replace(host=address).url


def _host_header(url: str, site_name: str | None) -> dict[str, str]:
    if not site_name:
        return {}
    parsed = parse_url(url)
    default = DEFAULT_PORTS.get(parsed.scheme or "http")
    return {"Host": site_name if parsed.port in (None, default) else f"{site_name}:{parsed.port}"}


def _reason(error: Exception) -> str:
    """The innermost reason of a TLS failure (for example a certificate for another name)."""
    text = str(error)
    for marker in ("certificate verify failed: ", "SSLError("):
        if marker in text:
            return text.split(marker, 1)[1].split("')", 1)[0].split('")', 1)[0][:200]
    return type(error).__name__


def _judge(response: requests.Response, expected_text: str, elapsed: float) -> ProbeResult:
    if response.status_code != 200:
        return ProbeResult(False, response.status_code, f"HTTP {response.status_code}", elapsed)
    if expected_text not in response.text:
        return ProbeResult(False, 200, f"HTTP 200 but the page lacks {expected_text!r}", elapsed)
    return ProbeResult(True, 200, f"HTTP 200 with {expected_text!r} in {elapsed * 1000:.0f} ms", elapsed)
