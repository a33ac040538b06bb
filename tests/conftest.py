"""Fixtures shared by every test: emulators on free ports, controlled clocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from local.cloudendure import Clock, CloudEndureEmulator

EmulatorFactory = Callable[..., CloudEndureEmulator]


@pytest.fixture
def frozen_clock() -> Clock:
    """A clock that moves only when a test advances it."""
    return Clock(frozen=True, start=datetime(2026, 11, 25, 3, 7, 42, tzinfo=UTC))


@pytest.fixture
def start_emulator() -> Iterator[EmulatorFactory]:
    """Start emulators on free ports; all are stopped after the test."""
    started: list[CloudEndureEmulator] = []

    def start(scenario: str = "two-tier", **options: object) -> CloudEndureEmulator:
        emulator = CloudEndureEmulator(scenario, port=0, **options).start()  # type: ignore[arg-type]
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
