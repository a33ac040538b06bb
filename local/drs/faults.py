"""Fault injection: which DRS calls misbehave next, and how many calls each operation has had."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from local.drs.scenario import FaultSpec


@dataclass
class _Armed:
    spec: FaultSpec
    remaining: int


class Faults:
    """Faults armed by the scenario or the admin API, handed out one call at a time, and the
    per-operation call counts that tests read to check a client's retries."""

    def __init__(self, specs: Iterable[FaultSpec] = ()) -> None:
        self.calls: dict[str, int] = {}
        self._armed = [_Armed(spec, spec.count) for spec in specs]
        self._lock = threading.Lock()

    def take(self, operation: str) -> FaultSpec | None:
        """Count a call of `operation` and use up the first fault armed for it, if any."""
        with self._lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            armed = next(
                (a for a in self._armed if a.remaining > 0 and a.spec.operation in (operation, "*")),
                None,
            )
            if armed is None:
                return None
            armed.remaining -= 1
            return armed.spec

    def arm(self, spec: FaultSpec) -> None:
        with self._lock:
            self._armed = [a for a in self._armed if a.remaining > 0]
            self._armed.append(_Armed(spec, spec.count))

    def clear(self) -> int:
        """Disarm every fault; returns how many calls they would still have spoiled."""
        with self._lock:
            left = sum(a.remaining for a in self._armed)
            self._armed = []
            return left
