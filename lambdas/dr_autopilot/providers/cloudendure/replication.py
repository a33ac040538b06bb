"""Pure decisions about CloudEndure data, no I/O: is a machine ready, and which recovery point.

CloudEndure has no field that says "Continuous Data Replication"; the console derives the label.
We derive it the way public clients do: replication started, a consistency point exists, nothing
is backlogged or being rescanned, every byte is replicated, the consistency point is recent and
the agent was seen recently.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from dr_autopilot.errors import NoPointInTime
from dr_autopilot.providers.cloudendure.models import Machine, PointInTime, ReplicationStatus


class ReplicationThresholds(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_lag_seconds: float = Field(120.0, gt=0)
    max_agent_silence_seconds: float = Field(300.0, gt=0)


class ReplicationVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    machine_id: str
    machine_name: str
    ready: bool
    lag_seconds: float | None
    reasons: tuple[str, ...] = ()


def assess_replication(machine: Machine, now: datetime, thresholds: ReplicationThresholds) -> ReplicationVerdict:
    """Is `machine` in Continuous Data Replication at `now`, and what is its lag (the RPO right now)?"""
    info = machine.replication_info
    reasons: list[str] = []
    if machine.replication_status is not ReplicationStatus.STARTED:
        reasons.append(f"replication is {machine.replication_status.value}")
    lag = (now - info.last_consistency_date_time).total_seconds() if info.last_consistency_date_time else None
    if lag is None:
        reasons.append("no consistency point yet")
    elif lag > thresholds.max_lag_seconds:
        reasons.append(f"lag {lag:.0f}s exceeds {thresholds.max_lag_seconds:.0f}s")
    if info.backlogged_storage_bytes > 0:
        reasons.append(f"{info.backlogged_storage_bytes} bytes backlogged")
    if info.rescanned_storage_bytes > 0:
        reasons.append(f"rescan in progress ({info.rescanned_storage_bytes} bytes)")
    if info.replicated_storage_bytes < info.total_storage_bytes:
        reasons.append(f"{info.replicated_storage_bytes} of {info.total_storage_bytes} bytes replicated")
    if info.last_seen_date_time is None:
        reasons.append("agent never seen")
    elif (now - info.last_seen_date_time).total_seconds() > thresholds.max_agent_silence_seconds:
        reasons.append(f"agent last seen {(now - info.last_seen_date_time).total_seconds():.0f}s ago")
    return ReplicationVerdict(
        machine_id=machine.id,
        machine_name=machine.name,
        ready=not reasons,
        lag_seconds=lag,
        reasons=tuple(reasons),
    )


def choose_point_in_time(points: Iterable[PointInTime], requested: datetime | None) -> PointInTime | None:
    """The recovery point to launch from.

    `requested=None` means "latest": no point is chosen and the launch omits `pointInTimeId`,
    which makes CloudEndure take a final snapshot of the latest replicated data (the best RPO).
    Otherwise the newest point at or before `requested`; `NoPointInTime` if there is none.
    """
    if requested is None:
        return None
    if requested.tzinfo is None:
        raise ValueError("the requested recovery time must carry a time zone")
    candidates = [point for point in points if point.date_time <= requested]
    if not candidates:
        raise NoPointInTime(f"no recovery point at or before {requested.isoformat()}")
    return max(candidates, key=lambda point: point.date_time)
