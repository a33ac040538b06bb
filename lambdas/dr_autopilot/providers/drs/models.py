"""Typed models of the DRS API's answers (field names as the API spells them).

Strict where the provider decides on a value: a replication state, a job status or a server's
launch status outside botocore's model is an InvalidResponse, never a guess. Tolerant elsewhere:
a log event, a job's initiator or an EC2 state the model does not know yet is kept as text, and
members the provider does not read are ignored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class _DrsModel(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)


class DataReplicationState(StrEnum):
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


class JobStatus(StrEnum):
    """DRS has no FAILED job status: failure is per server (`LaunchStatus`)."""

    PENDING = "PENDING"
    STARTED = "STARTED"
    COMPLETED = "COMPLETED"


class LaunchStatus(StrEnum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    LAUNCHED = "LAUNCHED"
    FAILED = "FAILED"
    TERMINATED = "TERMINATED"


class InitiatedBy(StrEnum):
    """The job initiators the provider starts (others are kept as text)."""

    START_RECOVERY = "START_RECOVERY"
    START_DRILL = "START_DRILL"


# ------------------------------------------------------------------------------ source servers
class DataReplicationError(_DrsModel):
    error: str | None = None
    raw_error: str | None = Field(None, alias="rawError")


class DataReplicationInfo(_DrsModel):
    data_replication_state: DataReplicationState | None = Field(None, alias="dataReplicationState")
    lag_duration: str | None = Field(None, alias="lagDuration")  # ISO-8601 duration, parsed by `replication`
    data_replication_error: DataReplicationError | None = Field(None, alias="dataReplicationError")


class LifeCycle(_DrsModel):
    # Read as text: an odd value makes one server "not ready" with a reason (replication.py),
    # never the whole estate's verdict fail.
    last_seen_by_service_date_time: str | None = Field(None, alias="lastSeenByServiceDateTime")


class IdentificationHints(_DrsModel):
    hostname: str | None = None
    fqdn: str | None = None


class SourceProperties(_DrsModel):
    identification_hints: IdentificationHints = Field(IdentificationHints(), alias="identificationHints")


class SourceServer(_DrsModel):
    id: str = Field(alias="sourceServerID")
    arn: str | None = None
    tags: dict[str, str] = {}
    recovery_instance_id: str | None = Field(None, alias="recoveryInstanceId")
    data_replication_info: DataReplicationInfo = Field(DataReplicationInfo(), alias="dataReplicationInfo")
    life_cycle: LifeCycle = Field(LifeCycle(), alias="lifeCycle")
    source_properties: SourceProperties = Field(SourceProperties(), alias="sourceProperties")
    is_archived: bool = Field(False, alias="isArchived")

    @property
    def hostname(self) -> str | None:
        return self.source_properties.identification_hints.hostname

    @property
    def display_name(self) -> str:
        """What a person recognises: the hostname, else the source server ID."""
        return self.hostname or self.id


# ------------------------------------------------------------------------------- snapshots
class RecoverySnapshot(_DrsModel):
    id: str = Field(alias="snapshotID")
    source_server_id: str = Field(alias="sourceServerID")
    expected_timestamp: datetime = Field(alias="expectedTimestamp")
    timestamp: datetime | None = None

    @property
    def taken_at(self) -> datetime:
        return self.timestamp or self.expected_timestamp


# ------------------------------------------------------------------------------------ jobs
class ParticipatingServer(_DrsModel):
    source_server_id: str = Field(alias="sourceServerID")
    recovery_instance_id: str | None = Field(None, alias="recoveryInstanceID")
    launch_status: LaunchStatus | None = Field(None, alias="launchStatus")


class Job(_DrsModel):
    id: str = Field(alias="jobID")
    type: str | None = None
    initiated_by: str | None = Field(None, alias="initiatedBy")
    creation_date_time: datetime | None = Field(None, alias="creationDateTime")
    end_date_time: datetime | None = Field(None, alias="endDateTime")
    status: JobStatus
    participating_servers: list[ParticipatingServer] = Field([], alias="participatingServers")
    tags: dict[str, str] = {}


class JobLogEventData(_DrsModel):
    source_server_id: str | None = Field(None, alias="sourceServerID")
    target_instance_id: str | None = Field(None, alias="targetInstanceID")
    raw_error: str | None = Field(None, alias="rawError")


class JobLogItem(_DrsModel):
    log_date_time: datetime = Field(alias="logDateTime")
    event: str  # JobLogEvent: JOB_START, SNAPSHOT_START, CONVERSION_END, LAUNCH_FAILED, ...
    event_data: JobLogEventData = Field(JobLogEventData(), alias="eventData")


# -------------------------------------------------------------------------- recovery instances
class RecoveryInstance(_DrsModel):
    id: str = Field(alias="recoveryInstanceID")
    ec2_instance_id: str | None = Field(None, alias="ec2InstanceID")
    ec2_instance_state: str | None = Field(None, alias="ec2InstanceState")
    job_id: str | None = Field(None, alias="jobID")
    source_server_id: str | None = Field(None, alias="sourceServerID")
    is_drill: bool | None = Field(None, alias="isDrill")
    point_in_time_snapshot_date_time: datetime | None = Field(None, alias="pointInTimeSnapshotDateTime")
