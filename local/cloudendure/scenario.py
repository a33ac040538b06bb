"""Scenario files: the data that shapes one emulated CloudEndure project."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCENARIO_DIR = Path(__file__).parent / "scenarios"
ScenarioModel = TypeVar("ScenarioModel", bound=BaseModel)
GIB = 1024**3


class ScenarioError(ValueError):
    """A scenario name or file that cannot be used, with the reason."""


class FaultKind(StrEnum):
    TOO_MANY_REQUESTS = "429"
    INTERNAL_ERROR = "500"
    BAD_GATEWAY = "502"
    UNAVAILABLE = "503"
    DROP = "drop"
    DROP_AFTER = "drop-after"  # the request takes effect, then the answer is lost
    DELAY = "delay"
    MALFORMED = "malformed"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FaultSpec(_Model):
    """The next `count` calls to `route` ('*' for any API route) misbehave as `kind`, after the
    first `afterCalls` calls (from when it is armed) went through unharmed."""

    route: str
    kind: FaultKind
    count: Annotated[int, Field(ge=1)] = 1
    after_calls: Annotated[int, Field(ge=0, alias="afterCalls")] = 0
    delay_seconds: Annotated[float, Field(ge=0, alias="delaySeconds")] = 0.0
    retry_after_seconds: Annotated[int | None, Field(ge=0, alias="retryAfterSeconds")] = None


class InitiationStepSpec(_Model):
    name: str
    status: str = "SUCCEEDED"


class PastJobSpec(_Model):
    """A job in the project's history before the scenario starts (any type or status the API
    may report, known to the client or not)."""

    type: str
    status: str = "COMPLETED"
    days_ago: Annotated[float, Field(gt=0, alias="daysAgo")] = 30.0


class MachineSpec(_Model):
    name: str
    os: str = "linux"
    webserver: bool = False
    # Answers on the landing-page port once recovered, as the webserver does: an application
    # server whose wave's check probes it.
    serves: bool = False
    lag_seconds: Annotated[float, Field(ge=0, alias="lagSeconds")] = 20.0
    replication_status: str = Field("STARTED", alias="replicationStatus")
    total_storage_bytes: int = Field(20 * GIB, alias="totalStorageBytes")
    backlogged_storage_bytes: int = Field(0, alias="backloggedStorageBytes")
    rescanned_storage_bytes: int = Field(0, alias="rescannedStorageBytes")
    has_public_ip: bool = Field(True, alias="hasPublicIp")
    launch_fails: bool = Field(False, alias="launchFails")  # the job completes without this machine's target
    # A target left by an earlier drill (TEST launch a day before the scenario starts), still running
    # and, for the webserver, serving the landing page.
    earlier_drill_target: bool = Field(False, alias="earlierDrillTarget")
    replicating_since_days: Annotated[int, Field(ge=0, alias="replicatingSinceDays")] = 45
    # The steps of its replication initiation, as the API reports them (None: CloudEndure's
    # eleven steps, all SUCCEEDED).
    initiation_steps: list[InitiationStepSpec] | None = Field(None, alias="initiationSteps")


class JobOutcome(StrEnum):
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    STUCK = "STUCK"


class JobSpec(_Model):
    duration_seconds: Annotated[float, Field(gt=0, alias="durationSeconds")] = 240.0
    converters_finished_at_seconds: Annotated[float, Field(gt=0, alias="convertersFinishedAtSeconds")] = 185.0
    pending_seconds: Annotated[float, Field(ge=0, alias="pendingSeconds")] = 5.0
    outcome: JobOutcome = JobOutcome.COMPLETED
    failure_message: str = Field("Job failed: conversion error", alias="failureMessage")


class LandingPageSpec(_Model):
    status: Annotated[int, Field(ge=100, le=599)] = 200
    body: str = (
        "<html><head><title>Welcome</title></head><body><h1>Hello from the PHP webserver</h1>"
        "<p>Served by {hostname}</p></body></html>"
    )
    delay_seconds: Annotated[float, Field(ge=0, alias="delaySeconds")] = 0.0
    # The page answers 302 to this loopback address, where another server serves the default
    # (healthy-looking) page: a webserver that only forwards visitors elsewhere.
    redirect_to_address: str | None = Field(None, alias="redirectToAddress", pattern=r"^127\.\d+\.\d+\.\d+$")
    # Served over TLS with a certificate for www.example.com and drill.example.com from the
    # drill's own CA (local/tls.py): the probe must connect to the address and verify the name.
    tls: bool = False


class GenerateSpec(_Model):
    count: Annotated[int, Field(ge=1, le=10_000)] = 3000
    name_prefix: str = Field("server-", alias="namePrefix")
    lag_seconds: float = Field(30.0, alias="lagSeconds")


class ProjectSpec(_Model):
    name: str
    type: str = "DR"


class Scenario(_Model):
    name: str
    description: str = ""
    project: ProjectSpec
    machines: list[MachineSpec]
    generate: GenerateSpec | None = None
    job: JobSpec = JobSpec()
    landing_page: LandingPageSpec = Field(LandingPageSpec(), alias="landingPage")
    faults: list[FaultSpec] = []
    job_history: list[PastJobSpec] = Field([], alias="jobHistory")
    session_ttl_seconds: Annotated[float, Field(gt=0, alias="sessionTtlSeconds")] = 3600.0
    license_expired: bool = Field(False, alias="licenseExpired")
    login_redirect: bool = Field(False, alias="loginRedirect")
    # What this site's cdk.json says where it differs from the example (`drAutopilot` keys, such
    # as machines "all" for a generated estate); the drill configures the stack with it.
    configuration: dict[str, Any] = {}

    def all_machines(self) -> list[MachineSpec]:
        """The listed machines, followed by the generated ones (the first generated is the webserver)."""
        machines = list(self.machines)
        if self.generate is not None:
            width = max(4, len(str(self.generate.count)))  # app-server-0001 whatever N is
            machines += [
                MachineSpec(
                    name=f"{self.generate.name_prefix}{index:0{width}d}",
                    lag_seconds=self.generate.lag_seconds,
                    webserver=index == 1 and not any(m.webserver for m in self.machines),
                )
                for index in range(1, self.generate.count + 1)
            ]
        return machines


def scenario_names(directory: Path) -> list[str]:
    """The bundled scenarios of an emulator: the JSON files in `directory`."""
    return sorted(path.stem for path in directory.glob("*.json"))


def read_scenario_file(directory: Path, name_or_path: str, model: type[ScenarioModel]) -> ScenarioModel:
    """A bundled scenario by name (a file in `directory`), or a scenario file by path, validated
    as `model`; ScenarioError names what is wrong. Shared by the CloudEndure and DRS emulators."""
    path = Path(name_or_path)
    if not path.suffix:
        path = directory / f"{name_or_path}.json"
    if not path.is_file():
        raise ScenarioError(
            f"unknown scenario {name_or_path!r}: give a file path or one of {', '.join(scenario_names(directory))}"
        )
    try:
        return model.model_validate(json.loads(path.read_text()))
    except (json.JSONDecodeError, ValidationError) as error:
        raise ScenarioError(f"scenario {path} is not valid: {error}") from error


def available_scenarios() -> list[str]:
    return scenario_names(SCENARIO_DIR)


def load_scenario(name_or_path: str, machine_count: int | None = None) -> Scenario:
    """Load a bundled scenario by name, or a scenario file by path."""
    scenario = read_scenario_file(SCENARIO_DIR, name_or_path, Scenario)
    if machine_count is not None:
        if scenario.generate is None:
            raise ScenarioError(f"scenario {scenario.name!r} has a fixed machine list; --machine-count needs 'large'")
        scenario.generate = scenario.generate.model_copy(update={"count": machine_count})
    return scenario
