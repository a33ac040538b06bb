"""Typed models of the CloudEndure v5 API's resources (field names as the API spells them)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from dr_autopilot.errors import InvalidResponse


class _ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)


class ProjectType(StrEnum):
    MIGRATION = "MIGRATION"
    DR = "DR"
    BACKUP = "BACKUP"


class ReplicationStatus(StrEnum):
    STARTED = "STARTED"
    PAUSED = "PAUSED"
    STOPPED = "STOPPED"


class LaunchType(StrEnum):
    RECOVERY = "RECOVERY"
    TEST = "TEST"
    CUTOVER = "CUTOVER"
    DEBUG = "DEBUG"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED)


class JobType(StrEnum):
    """Every job type of the API (../shared/docs/cloudendure-api.md). A job's type is read as
    text: a real account's history may hold types this list lacks, and one old job must never
    stop a failover. Only our own launch types are compared."""

    CLEANUP = "CLEANUP"
    CUTOVER_LAUNCH = "CUTOVER_LAUNCH"
    RECOVERY_LAUNCH = "RECOVERY_LAUNCH"
    RESTORE_LAUNCH = "RESTORE_LAUNCH"
    TEST_LAUNCH = "TEST_LAUNCH"
    DEBUG_LAUNCH = "DEBUG_LAUNCH"
    CONSOLIDATE_VMDKS = "CONSOLIDATE_VMDKS"
    FILE_RESTORE = "FILE_RESTORE"
    RECOVERY_PLAN_RECOVERY = "RECOVERY_PLAN_RECOVERY"
    RECOVERY_PLAN_TEST = "RECOVERY_PLAN_TEST"
    RECOVERY_PLAN_CUTOVER = "RECOVERY_PLAN_CUTOVER"
    RECOVERY_PLAN_CLEANUP = "RECOVERY_PLAN_CLEANUP"


class Project(_ApiModel):
    id: str
    name: str
    type: ProjectType


class SourceProperties(_ApiModel):
    name: str
    machine_cloud_id: str | None = None
    os: str | None = None


class ReplicationInfo(_ApiModel):
    total_storage_bytes: int = 0
    replicated_storage_bytes: int = 0
    rescanned_storage_bytes: int = 0
    backlogged_storage_bytes: int = 0
    last_consistency_date_time: datetime | None = None
    next_consistency_estimated_date_time: datetime | None = None
    last_seen_date_time: datetime | None = None


class LifeCycle(_ApiModel):
    last_test_launch_date_time: datetime | None = None
    last_recovery_launch_date_time: datetime | None = None
    last_cutover_date_time: datetime | None = None


class Machine(_ApiModel):
    id: str
    source_properties: SourceProperties
    replication_status: ReplicationStatus
    replication_info: ReplicationInfo = ReplicationInfo()
    life_cycle: LifeCycle = LifeCycle()
    replica: str | None = None
    is_agent_installed: bool = True

    @property
    def name(self) -> str:
        return self.source_properties.name


class PointInTime(_ApiModel):
    id: str
    date_time: datetime


class JobLogEntry(_ApiModel):
    message: str
    log_date_time: datetime


class Job(_ApiModel):
    id: str
    type: str  # tolerant: see JobType
    # Tolerant in the job list (an old job's status decides nothing); strict for the job a
    # decision depends on: `known_status`.
    status: str
    participating_machines: list[str] = []
    log: list[JobLogEntry] = []
    creation_date_time: datetime | None = None
    end_date_time: datetime | None = None
    initiated_by: str | None = None

    def known_status(self) -> JobStatus:
        """The status, which must be one the API documents (InvalidResponse otherwise)."""
        try:
            return JobStatus(self.status)
        except ValueError:
            raise InvalidResponse(f"job {self.id} has a status the API does not document: {self.status!r}") from None


class Replica(_ApiModel):
    id: str
    machine: str
    machine_cloud_id: str | None = None
    machine_cloud_state: str | None = None
    public_ips: list[str] = []
    private_ips: list[str] = []
    region_id: str | None = None
    point_in_time: str | None = None
    name: str | None = None
    creation_date_time: datetime | None = Field(
        None, validation_alias=AliasChoices("cloudEndureCreationDateTime", "creationDateTime")
    )


class LaunchItem(_ApiModel):
    machine_id: str
    point_in_time_id: str | None = None
