"""The emulated project's records: source machines, jobs, replicas, and the ids that name them.

What changes with time (a job's status, a machine's recovery points) is derived from the moment
it is asked about, so nothing runs in the background and a test that moves the clock by hand
sees exactly what a drill that lets it run sees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from local.cloudendure.clock import iso
from local.cloudendure.scenario import MachineSpec

NAMESPACE = uuid.UUID("6f1c2b1e-5d7a-4c1e-9a59-0c1d3e5f7a90")
# The launchType a launch request names, and the job type its job reports.
LAUNCH_TYPES = {
    "RECOVERY": "RECOVERY_LAUNCH",
    "TEST": "TEST_LAUNCH",
    "CUTOVER": "CUTOVER_LAUNCH",
    "DEBUG": "DEBUG_LAUNCH",
}
CLEANUP = "CLEANUP"
RUNNING_STATUSES = ("PENDING", "STARTED")


def stable_id(*parts: str) -> str:
    """An id that is the same in every run for the same parts, so scenarios name things reproducibly."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class PointInTime:
    """A recovery point of one machine."""

    id: str
    moment: datetime


@dataclass
class Machine:
    """A replicating source machine, with the replica and launch dates its launches left on it."""

    id: str
    spec: MachineSpec
    cloud_id: str
    installed_at: datetime
    replica_id: str | None = None
    life_cycle: dict[str, str] = field(default_factory=dict)

    def points_in_time(self, now: datetime) -> list[PointInTime]:
        """The console's retention: every 10 minutes for the last hour, hourly for the last day,
        daily for the last month; never before replication started. Oldest first."""
        if self.spec.replication_status != "STARTED":
            return []
        newest = now - timedelta(seconds=self.spec.lag_seconds)
        ten = newest.replace(minute=newest.minute - newest.minute % 10, second=0, microsecond=0)
        moments: set[datetime] = {
            ten - timedelta(minutes=10 * k)
            for k in range(6)
            if now - (ten - timedelta(minutes=10 * k)) < timedelta(hours=1)
        }
        hour = newest.replace(minute=0, second=0, microsecond=0)
        moments |= {hour - timedelta(hours=k) for k in range(1, 24)}
        day = newest.replace(hour=0, minute=0, second=0, microsecond=0)
        moments |= {day - timedelta(days=k) for k in range(1, 31)}
        moments = {m for m in moments if self.installed_at <= m <= newest}
        return [PointInTime(stable_id(self.id, "pit", iso(m)), m) for m in sorted(moments)]


@dataclass
class Replica:
    """A target machine that a completed launch created for one source machine."""

    id: str
    machine_id: str
    cloud_id: str
    public_ips: list[str]
    private_ips: list[str]
    point_in_time: str
    name: str
    created_at: datetime
    job_id: str | None = None  # the launch job that created it (None: from before the scenario began)


@dataclass
class Job:
    """A launch or cleanup job; its status and log follow from the time elapsed since creation."""

    id: str
    launch_type: str
    machine_ids: list[str]
    point_in_time_ids: dict[str, str | None]
    created_at: datetime
    log_plan: list[tuple[float, str]]
    end_offset: float | None  # emulated seconds after creation; None = never ends (stuck)
    final_status: str  # COMPLETED or FAILED once end_offset has passed
    pending_seconds: float
    initiated_by: str
    failed_at: datetime | None = None
    finalized: bool = False

    def elapsed(self, now: datetime) -> float:
        """Emulated seconds since the job was created."""
        return (now - self.created_at).total_seconds()

    def status(self, now: datetime) -> str:
        """PENDING, then STARTED, then the planned final status at the end; FAILED once stopped."""
        if self.failed_at is not None:
            return "FAILED"
        elapsed = self.elapsed(now)
        if self.end_offset is not None and elapsed >= self.end_offset:
            return self.final_status
        return "PENDING" if elapsed < self.pending_seconds else "STARTED"

    def is_running(self, now: datetime) -> bool:
        return self.status(now) in RUNNING_STATUSES
