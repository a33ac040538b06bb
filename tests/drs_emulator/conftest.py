"""Fixtures for the DRS emulator's tests: emulators on free ports with a clock the test moves,
and real boto3 `drs` clients whose every answer is checked against botocore's model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from local.drs import Clock, DrsEmulator
from tests.drs_emulator.model_check import AnswerChecker

START = datetime(2026, 11, 25, 3, 7, 42, tzinfo=UTC)

DrsFactory = Callable[..., DrsEmulator]


@pytest.fixture
def clock() -> Clock:
    """A clock that moves only when a test advances it."""
    return Clock(frozen=True, start=START)


@pytest.fixture
def start_drs(clock: Clock) -> Iterator[DrsFactory]:
    """Start emulators (on the test's frozen clock unless told otherwise); all stop after the test."""
    started: list[DrsEmulator] = []

    def start(scenario: str = "two-tier", **options: Any) -> DrsEmulator:
        options.setdefault("clock", clock)
        emulator = DrsEmulator(scenario, **options).start()
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@dataclass
class Drs:
    """A running emulator, a checked boto3 client of it and the clock it runs on."""

    emulator: DrsEmulator
    client: Any
    checker: AnswerChecker
    clock: Clock

    def server_ids(self) -> dict[str, str]:
        """Source server id by hostname."""
        items = self.client.describe_source_servers()["items"]
        return {item["sourceProperties"]["identificationHints"]["hostname"]: item["sourceServerID"] for item in items}


def connect(emulator: DrsEmulator, **config: Any) -> Drs:
    """A boto3 `drs` client without retries whose answers are checked against the model."""
    config.setdefault("retries", {"total_max_attempts": 1})
    client = emulator.client(**config)
    checker = AnswerChecker(client.meta.service_model)
    client.meta.events.register("before-parse.drs.*", checker)
    return Drs(emulator, client, checker, emulator.clock)


@pytest.fixture
def drs(start_drs: DrsFactory) -> Drs:
    """A checked client of a two-tier emulator on the test's frozen clock."""
    return connect(start_drs())
