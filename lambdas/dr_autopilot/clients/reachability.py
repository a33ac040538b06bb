"""A wave's check: does a service answer at a recovered machine's address (TCP or HTTP)?
Satisfies `ports.Reachability`. Only the probed address is judged: no redirect is followed."""

from __future__ import annotations

import socket
import time

import requests

from dr_autopilot.ports import ProbeResult

HEADERS = {"User-Agent": "dr-autopilot-wave-check"}


class SocketReachability:
    def tcp(self, host: str, port: int, timeout_seconds: float) -> ProbeResult:
        started = time.monotonic()
        try:
            with socket.create_connection((host, port), timeout=timeout_seconds):
                pass
        except OSError as error:
            return ProbeResult(False, None, f"TCP {host}:{port}: {type(error).__name__}", time.monotonic() - started)
        seconds = time.monotonic() - started
        return ProbeResult(True, None, f"TCP {host}:{port} accepted in {seconds * 1000:.0f} ms", seconds)

    def http(self, url: str, expected_status: int, timeout_seconds: float) -> ProbeResult:
        started = time.monotonic()
        try:
            response = requests.get(url, timeout=timeout_seconds, allow_redirects=False, headers=HEADERS)
        except requests.RequestException as error:
            return ProbeResult(False, None, f"GET {url}: {type(error).__name__}", time.monotonic() - started)
        seconds = time.monotonic() - started
        ok = response.status_code == expected_status
        want = "" if ok else f", expected {expected_status}"
        return ProbeResult(ok, response.status_code, f"GET {url}: HTTP {response.status_code}{want}", seconds)
