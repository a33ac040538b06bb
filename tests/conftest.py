"""Fixtures shared by every test: emulators on free ports, controlled clocks."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from local.cloudendure import Clock, CloudEndureEmulator
from local.environment import SYNTH_CACHE_VARIABLE

_SYNTH_CACHE_OWNER = "_DR_AUTOPILOT_SYNTH_CACHE_OWNER"


def pytest_configure(config: pytest.Config) -> None:
    """One synth cache for the session, shared by its workers (they inherit the variable): each
    context's template is synthesized once instead of once per worker."""
    if SYNTH_CACHE_VARIABLE not in os.environ:
        os.environ[SYNTH_CACHE_VARIABLE] = tempfile.mkdtemp(prefix="dr-autopilot-synth-cache-")
        os.environ[_SYNTH_CACHE_OWNER] = str(os.getpid())


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get(_SYNTH_CACHE_OWNER) == str(os.getpid()):
        shutil.rmtree(os.environ.pop(SYNTH_CACHE_VARIABLE), ignore_errors=True)


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
