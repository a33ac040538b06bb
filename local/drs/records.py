"""The emulated account's records (source servers, snapshots, jobs, recovery instances), the ids
that name them and DRS's time formats.

What changes with time (a server's lag and snapshots, a job's status and log) is derived from the
moment it is asked about, so nothing runs in the background and a test that moves the clock by
hand sees exactly what a drill that lets it run sees.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from local.drs.scenario import FLOWING_STATES, UNSYNCED_STATES, ReplicationState, ServerSpec

SNAPSHOT_INTERVAL = timedelta(minutes=10)
# DRS's default point-in-time policy: every 10 minutes for an hour, hourly for a day, daily for a week.
RETENTION = ((1, timedelta(hours=1)), (6, timedelta(days=1)), (144, timedelta(days=7)))
INITIAL_SYNC = timedelta(hours=2)  # from first byte to the first snapshot


def stable_hex(*parts: str, length: int = 17) -> str:
    """Hex characters that are the same in every run for the same parts: reproducible ids."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def iso(moment: datetime) -> str:
    """DRS's timestamp format: ISO-8601 in UTC ending in `Z` (the model's pattern)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """An ISO-8601 timestamp as clients send it (`Z` or `+00:00`); ValueError if it is not one."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment


def iso_duration(seconds: float) -> str:
    """An ISO-8601 duration as DRS writes lags: `P0D`, `PT18S`, `PT16H20M38.697305S`, `P2DT3H`."""
    if seconds <= 0:
        return "P0D"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    time_part = "".join(
        f"{value}{unit}"
        for value, unit in ((int(hours), "H"), (int(minutes), "M"), (_seconds(secs), "S"))
        if value not in (0, "0")
    )
    return ("P" + (f"{int(days)}D" if days else "") + (f"T{time_part}" if time_part else "")) or "P0D"


def _seconds(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Snapshot:
    """A recovery snapshot (point in time) of one source server."""

    id: str
    source_server_id: str
    expected: datetime
    taken: datetime
    ebs_snapshot_ids: tuple[str, ...]


@dataclass(frozen=True)
class Arns:
    """ARNs of the account's resources: `arn:aws:drs:REGION:ACCOUNT:KIND/ID`."""

    region: str
    account_id: str

    def of(self, kind: str, resource_id: str) -> str:
        return f"arn:aws:drs:{self.region}:{self.account_id}:{kind}/{resource_id}"


@dataclass
class SourceServer:
    """A replicating source server and what its launches left on it."""

    id: str
    arn: str
    spec: ServerSpec
    added_at: datetime
    scenario_started_at: datetime
    tags: dict[str, str]
    last_launch_job_id: str | None = None
    recovery_instance_id: str | None = None

    def lag_seconds(self, now: datetime) -> float | None:
        """How far behind the replicated data is: fixed while data flows, growing once it stopped."""
        if self.spec.state in UNSYNCED_STATES:
            return None
        if self.spec.state in FLOWING_STATES:
            return self.spec.lag_seconds
        return self.spec.lag_seconds + max(0.0, (now - self.scenario_started_at).total_seconds())

    def last_seen(self, now: datetime) -> datetime:
        """The agent reports every few seconds, unless it is cut off (then since the scenario began)."""
        if self.spec.state is ReplicationState.DISCONNECTED:
            return self.scenario_started_at - timedelta(seconds=self.spec.lag_seconds)
        return now - timedelta(seconds=3)

    def snapshots(self, now: datetime) -> list[Snapshot]:
        """The retained snapshots, oldest first. They are taken on a 10-minute grid anchored so
        that the newest is `lagSeconds` old when the scenario starts; a stalled server takes no more."""
        lag = self.lag_seconds(now)
        if lag is None:
            return []
        anchor = self.scenario_started_at - timedelta(seconds=self.spec.lag_seconds)
        newest = math.floor((now - timedelta(seconds=lag) - anchor) / SNAPSHOT_INTERVAL)
        oldest = math.ceil((self.added_at + INITIAL_SYNC - anchor) / SNAPSHOT_INTERVAL)
        ticks: set[int] = set()
        for every, kept_for in RETENTION:
            first = max(oldest, math.ceil((now - kept_for - anchor) / SNAPSHOT_INTERVAL))
            ticks.update(k for k in range(first, newest + 1) if k % every == 0)
        snapshots = (self._snapshot(anchor, tick) for tick in sorted(ticks))
        return [snapshot for snapshot in snapshots if snapshot.taken <= now]

    def _snapshot(self, anchor: datetime, tick: int) -> Snapshot:
        expected = anchor + tick * SNAPSHOT_INTERVAL
        digest = stable_hex(self.id, "pit", str(tick))
        return Snapshot(
            id=f"pit-{digest}",
            source_server_id=self.id,
            expected=expected,
            taken=expected + timedelta(seconds=1 + int(digest[:2], 16) % 5),
            ebs_snapshot_ids=(f"snap-{stable_hex(digest, 'ebs')}",),
        )


@dataclass(frozen=True)
class LogEvent:
    """One planned job log item: its offset (emulated seconds after the job was created)."""

    offset: float
    event: str
    participant: str | None = None  # the key of the job's participant it is about
    raw_error: str | None = None


@dataclass
class Participant:
    """One source server in a job, with the moments (offsets) that decide its launchStatus."""

    source_server_id: str
    snapshot: Snapshot | None  # the chosen point in time, None for a fresh snapshot
    point_in_time: datetime | None
    launch_at: float | None = None  # LAUNCH_START: the instance is created
    launched_at: float | None = None  # the instance runs: LAUNCHED
    failed_at: float | None = None  # LAUNCH_FAILED
    recovery_instance_id: str | None = None  # launched by this job, or (TERMINATE) terminated by it
    cleanup_instance_id: str | None = None  # removed at CLEANUP_END: a drill instance this launch replaces
    terminated: bool = False  # its recovery instance has since been terminated


@dataclass
class Job:
    """A LAUNCH or TERMINATE job; its status and log follow from the time elapsed since creation."""

    id: str
    arn: str
    type: str  # LAUNCH | TERMINATE
    initiated_by: str  # START_RECOVERY | START_DRILL | TERMINATE_RECOVERY_INSTANCES
    created_at: datetime
    pending_seconds: float
    end_offset: float | None  # None: never ends (a stuck job)
    # In request order, by source server id (LAUNCH) or recovery instance id (TERMINATE).
    participants: dict[str, Participant]
    log: list[LogEvent]
    tags: dict[str, str] = field(default_factory=dict)
    applied: int = 0  # how many of the log's events have had their effects (instances, cleanups)
    finished: bool = False

    @property
    def is_drill(self) -> bool:
        return self.initiated_by == "START_DRILL"

    def elapsed(self, now: datetime) -> float:
        return (now - self.created_at).total_seconds()

    def status(self, now: datetime) -> str:
        """PENDING, then STARTED, then COMPLETED (DRS has no FAILED job status)."""
        elapsed = self.elapsed(now)
        if self.end_offset is not None and elapsed >= self.end_offset:
            return "COMPLETED"
        return "PENDING" if elapsed < self.pending_seconds else "STARTED"

    def end(self) -> datetime | None:
        return None if self.end_offset is None else self.created_at + timedelta(seconds=self.end_offset)

    def launch_status(self, participant: Participant, now: datetime) -> str:
        """PENDING before the job starts, IN_PROGRESS, then LAUNCHED or FAILED (TERMINATED for a
        TERMINATE job's servers once it ends, and for a launch whose instance was terminated since)."""
        elapsed = self.elapsed(now)
        if self.type == "TERMINATE":
            done = self.end_offset is not None and elapsed >= self.end_offset
            return "TERMINATED" if done else ("PENDING" if elapsed < self.pending_seconds else "IN_PROGRESS")
        if participant.failed_at is not None and elapsed >= participant.failed_at:
            return "FAILED"
        if participant.launched_at is not None and elapsed >= participant.launched_at:
            return "TERMINATED" if participant.terminated else "LAUNCHED"
        return "PENDING" if elapsed < self.pending_seconds else "IN_PROGRESS"


@dataclass
class RecoveryInstance:
    """The EC2 instance a launch created for a source server (its id is the EC2 instance id)."""

    id: str
    arn: str
    source_server_id: str
    job_id: str
    is_drill: bool
    point_in_time: datetime
    created_at: datetime
    running_at: datetime
    public_ip: str
    private_ip: str
    tags: dict[str, str] = field(default_factory=dict)
    terminating_job_id: str | None = None
