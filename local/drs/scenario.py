"""Scenario files: the data that shapes one emulated DRS account (`local/drs/scenarios/*.json`)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from local.cloudendure.scenario import LandingPageSpec, ScenarioError, read_scenario_file, scenario_names

SCENARIO_DIR = Path(__file__).parent / "scenarios"
GIB = 1024**3

__all__ = ["LandingPageSpec", "Scenario", "ScenarioError", "available_scenarios", "load_scenario"]


class ReplicationState(StrEnum):
    """`dataReplicationInfo.dataReplicationState`, exactly the model's enum."""

    STOPPED = "STOPPED"
    INITIATING = "INITIATING"
    INITIAL_SYNC = "INITIAL_SYNC"
    BACKLOG = "BACKLOG"
    CREATING_SNAPSHOT = "CREATING_SNAPSHOT"
    CONTINUOUS = "CONTINUOUS"
    PAUSED = "PAUSED"
    RESCAN = "RESCAN"
    STALLED = "STALLED"
    DISCONNECTED = "DISCONNECTED"


# States in which the replication server still receives data: the lag stays where the scenario puts it.
# In the others it grows with the clock from the moment the scenario starts.
FLOWING_STATES = frozenset(
    {
        ReplicationState.CONTINUOUS,
        ReplicationState.BACKLOG,
        ReplicationState.CREATING_SNAPSHOT,
        ReplicationState.RESCAN,
    }
)
# States that have never produced a recovery snapshot.
UNSYNCED_STATES = frozenset({ReplicationState.INITIATING, ReplicationState.INITIAL_SYNC})


class ErrorType(StrEnum):
    """The modeled DRS errors a fault can answer with."""

    THROTTLING = "ThrottlingException"
    INTERNAL_SERVER = "InternalServerException"
    VALIDATION = "ValidationException"
    CONFLICT = "ConflictException"
    SERVICE_QUOTA_EXCEEDED = "ServiceQuotaExceededException"
    UNINITIALIZED_ACCOUNT = "UninitializedAccountException"
    RESOURCE_NOT_FOUND = "ResourceNotFoundException"
    ACCESS_DENIED = "AccessDeniedException"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FaultSpec(_Model):
    """The next `count` calls of `operation` ('*' for any DRS operation) misbehave.

    `errorType` answers that modeled error; `status` alone answers a bare status with no error
    type (a load balancer's 502/503 in front of the service); `drop` closes the connection
    without an answer; `delaySeconds` (real seconds) delays the answer, alone or before the rest.
    """

    operation: str = "*"
    error_type: ErrorType | None = Field(None, alias="errorType")
    status: Annotated[int | None, Field(ge=400, le=599)] = None
    drop: bool = False
    count: Annotated[int, Field(ge=1)] = 1
    retry_after_seconds: Annotated[int | None, Field(ge=0, alias="retryAfterSeconds")] = None
    delay_seconds: Annotated[float, Field(ge=0, alias="delaySeconds")] = 0.0

    @model_validator(mode="after")
    def _does_something(self) -> FaultSpec:
        if self.error_type is None and self.status is None and not self.drop and not self.delay_seconds:
            raise ValueError("a fault needs errorType, status, drop or delaySeconds")
        return self


class ServerSpec(_Model):
    """One replicating source server."""

    hostname: str
    os: str = "Linux - Ubuntu 22.04.4 LTS"
    webserver: bool = False
    # Answers on the landing-page port once recovered, as the webserver does: an application
    # server whose wave's check probes it.
    serves: bool = False
    state: ReplicationState = ReplicationState.CONTINUOUS
    lag_seconds: Annotated[float, Field(ge=0, alias="lagSeconds")] = 20.0
    total_storage_bytes: Annotated[int, Field(ge=GIB, alias="totalStorageBytes")] = 20 * GIB
    backlogged_storage_bytes: Annotated[int, Field(ge=0, alias="backloggedStorageBytes")] = 0
    launch_fails: bool = Field(False, alias="launchFails")
    launch_error: str = Field(
        "Failed to launch recovery instance: InsufficientInstanceCapacity in eu-west-1a", alias="launchError"
    )
    replicating_since_days: Annotated[int, Field(ge=1, alias="replicatingSinceDays")] = 45
    staging_account_id: str | None = Field(None, alias="stagingAccountID", pattern=r"^[0-9]{12}$")
    tags: dict[str, str] = {}


class JobSpec(_Model):
    """The shape of a launch job on the emulated clock, in seconds after StartRecovery."""

    pending_seconds: Annotated[float, Field(ge=0, alias="pendingSeconds")] = 5.0
    duration_seconds: Annotated[float, Field(gt=0, alias="durationSeconds")] = 240.0
    conversion_end_at_seconds: Annotated[float, Field(gt=0, alias="conversionEndAtSeconds")] = 185.0
    stuck: bool = False  # starts converting and never ends: the job stays STARTED
    terminate_seconds: Annotated[float, Field(gt=0, alias="terminateSeconds")] = 30.0

    @model_validator(mode="after")
    def _ordered(self) -> JobSpec:
        if not self.pending_seconds < self.conversion_end_at_seconds < self.duration_seconds:
            raise ValueError("need pendingSeconds < conversionEndAtSeconds < durationSeconds")
        return self


class QuotaSpec(_Model):
    """Account quotas (the documented values differ between documents; these are the defaults)."""

    concurrent_jobs: Annotated[int, Field(ge=1, alias="concurrentJobs")] = 20
    servers_in_active_jobs: Annotated[int, Field(ge=1, alias="serversInActiveJobs")] = 500


class GenerateSpec(_Model):
    count: Annotated[int, Field(ge=1, le=4000)] = 3000
    hostname_prefix: str = Field("app-server-", alias="hostnamePrefix")
    lag_seconds: Annotated[float, Field(ge=0, alias="lagSeconds")] = 30.0


class Scenario(_Model):
    name: str
    description: str = ""
    account_initialized: bool = Field(True, alias="accountInitialized")
    servers: list[ServerSpec]
    generate: GenerateSpec | None = None
    job: JobSpec = JobSpec()
    quotas: QuotaSpec = QuotaSpec()
    landing_page: LandingPageSpec = Field(LandingPageSpec(), alias="landingPage")
    faults: list[FaultSpec] = []
    # What this site's cdk.json says where it differs from the example (`drAutopilot` keys, such
    # as machines "all" for a generated estate); the drill configures the stack with it.
    configuration: dict[str, Any] = {}

    def all_servers(self) -> list[ServerSpec]:
        """The listed servers, then the generated ones (the first generated is the webserver if none is)."""
        servers = list(self.servers)
        if self.generate is not None:
            width = max(4, len(str(self.generate.count)))  # app-server-0001 whatever N is
            has_webserver = any(server.webserver for server in servers)
            servers += [
                ServerSpec(
                    hostname=f"{self.generate.hostname_prefix}{index:0{width}d}",
                    lag_seconds=self.generate.lag_seconds,
                    webserver=index == 1 and not has_webserver,
                )
                for index in range(1, self.generate.count + 1)
            ]
        return servers


def available_scenarios() -> list[str]:
    return scenario_names(SCENARIO_DIR)


def load_scenario(name_or_path: str, machine_count: int | None = None) -> Scenario:
    """A bundled scenario by name, or a scenario file by path; `machine_count` resizes a generated one."""
    scenario = read_scenario_file(SCENARIO_DIR, name_or_path, Scenario)
    if machine_count is not None:
        if scenario.generate is None:
            raise ScenarioError(f"scenario {scenario.name!r} has a fixed server list; --machine-count needs 'large'")
        try:
            generate = GenerateSpec.model_validate({**scenario.generate.model_dump(), "count": machine_count})
        except ValidationError as error:
            raise ScenarioError(f"--machine-count {machine_count}: {error}") from error
        scenario = scenario.model_copy(update={"generate": generate})
    return scenario
