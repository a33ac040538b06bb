"""HTTP probe of the recovered webserver's landing page (`probe` satisfies `ports.Probe`)."""

from __future__ import annotations

import time

import requests

from dr_autopilot.ports import ProbeResult


def probe(url: str, expected_text: str, timeout_seconds: float) -> ProbeResult:
    """GET `url` once: healthy only on 200 with `expected_text` in the body, within the timeout."""
    started = time.monotonic()
    try:
        response = requests.get(
            url, timeout=timeout_seconds, allow_redirects=True, headers={"User-Agent": "dr-autopilot-health-check"}
        )
    except requests.Timeout:
        return ProbeResult(False, None, f"no answer within {timeout_seconds:g}s", time.monotonic() - started)
    except requests.RequestException as error:
        return ProbeResult(False, None, f"connection failed: {type(error).__name__}", time.monotonic() - started)
    elapsed = time.monotonic() - started
    if response.status_code != 200:
        return ProbeResult(False, response.status_code, f"HTTP {response.status_code}", elapsed)
    if expected_text not in response.text:
        return ProbeResult(False, 200, f"HTTP 200 but the page lacks {expected_text!r}", elapsed)
    return ProbeResult(True, 200, f"HTTP 200 with {expected_text!r} in {elapsed * 1000:.0f} ms", elapsed)
