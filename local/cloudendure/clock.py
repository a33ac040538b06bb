"""The emulator's clock: emulated time runs `time_scale` times faster than real time.

Every time-dependent behaviour of the emulator (job progress, replication lag, session expiry,
points in time) reads this clock, so tests can drive it by hand and the drill can compress a
four-minute recovery job into seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from typing import Any


class Clock:
    """Emulated time = start + (real time elapsed) x time_scale + manual advances."""

    def __init__(self, time_scale: float = 1.0, start: datetime | None = None, frozen: bool = False) -> None:
        if time_scale <= 0:
            raise ValueError(f"time scale must be positive, got {time_scale}")
        self.time_scale = time_scale
        self.frozen = frozen
        self._start = start or datetime.now(UTC)
        self._real_start = time.monotonic()
        self._wall_start = datetime.now(UTC)
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        if self.frozen:
            return self._start + offset
        real_elapsed = time.monotonic() - self._real_start
        return self._start + timedelta(seconds=real_elapsed * self.time_scale) + offset

    def advance(self, seconds: float) -> None:
        """Jump the emulated clock forward (tests and the admin API use this)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)

    def to_wall_clock(self, emulated: datetime) -> datetime:
        """When (real UTC time) the emulated moment happens or happened, at the current offset."""
        if self.frozen:
            return self._wall_start
        with self._lock:
            offset = self._offset
        return self._wall_start + (emulated - self._start - offset) / self.time_scale

    def real_seconds(self, emulated_seconds: float) -> float:
        """How long `emulated_seconds` take in real time (0 for a frozen clock)."""
        return 0.0 if self.frozen else emulated_seconds / self.time_scale


def iso(moment: datetime) -> str:
    """CloudEndure's timestamp format: ISO-8601 with microseconds and an explicit UTC offset."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class DatedByArrival:
    """For an emulator's HTTP handler: the `Date` header tells emulated time, as a real service's
    tells its own clock, and the moment the request arrived, not a later one. Emulated time runs
    up to 240 times faster, so a busy machine's few hundred milliseconds between reading the state
    and sending the headers would otherwise age every answer by minutes (a lag of 25 s read as
    145 s). Call `arrive()` first thing for each request."""

    emulator: Any  # has the emulated `clock`
    arrived: datetime | None = None

    def arrive(self) -> None:
        self.arrived = self.emulator.clock.now()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate((self.arrived or self.emulator.clock.now()).timestamp(), usegmt=True)
