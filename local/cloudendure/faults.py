"""Fault injection: which API calls misbehave next, and how many calls each route has had."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from local.cloudendure.scenario import FaultKind, FaultSpec


@dataclass
class ActiveFault:
    """An armed fault and how many more calls it will spoil."""

    spec: FaultSpec
    remaining: int
    spared: int = 0  # calls still to let through before the first spoiled one


class Faults:
    """Faults armed by the scenario or the admin API, handed out one call at a time, and the
    per-route call counts that tests read to check a client's retries."""

    def __init__(self, specs: Iterable[FaultSpec]) -> None:
        self.calls: dict[str, int] = {}
        self._armed = [ActiveFault(spec, spec.count, spec.after_calls) for spec in specs]
        self._lock = threading.Lock()

    def take(self, route: str) -> FaultSpec | None:
        """Count a call to `route` and use up the first fault armed for it, if any."""
        with self._lock:
            self.calls[route] = self.calls.get(route, 0) + 1
            fault = self._next(route)
            if fault is None:
                return None
            if fault.spared > 0:
                fault.spared -= 1
                return None
            fault.remaining -= 1
            return fault.spec

    def peek(self, route: str) -> FaultKind | None:
        """The kind of the fault the next call to `route` will meet, without taking it."""
        with self._lock:
            fault = self._next(route)
            return None if fault is None or fault.spared > 0 else fault.spec.kind

    def arm(self, spec: FaultSpec) -> None:
        with self._lock:
            self._armed.append(ActiveFault(spec, spec.count, spec.after_calls))

    def _next(self, route: str) -> ActiveFault | None:
        return next((f for f in self._armed if f.remaining > 0 and f.spec.route in (route, "*")), None)
