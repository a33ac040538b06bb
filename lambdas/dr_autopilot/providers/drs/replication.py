"""Pure decisions about DRS data, no I/O: is a source server ready to recover.

Ready means what DRS's console shows as healthy replication: `dataReplicationState` is
CONTINUOUS, the lag (`lagDuration`, an ISO-8601 duration) is within `maxLagSeconds`, and the
service heard from the agent (`lifeCycle.lastSeenByServiceDateTime`) within
`maxAgentSilenceSeconds`. A value that cannot be read makes the server not ready, with a reason,
never an exception: one odd server must not hide the verdict on the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from dr_autopilot.providers.drs.models import DataReplicationState, SourceServer

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_DURATION = re.compile(
    rf"^P(?:{_NUMBER}Y)?(?:{_NUMBER}M)?(?:{_NUMBER}W)?(?:{_NUMBER}D)?"
    rf"(?:T(?:{_NUMBER}H)?(?:{_NUMBER}M)?(?:{_NUMBER}S)?)?$"
)
# Years and months have no fixed length; a lag measured in them is far beyond any threshold anyway.
_UNIT_SECONDS = (365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1)


def duration_seconds(text: str) -> float | None:
    """An ISO-8601 duration (`PT18S`, `PT16H20M38.697305S`, `P0D`, `P1DT2H`) in seconds; None if
    it is not one."""
    value = text.strip().upper()
    match = _DURATION.match(value)
    if match is None or value in ("P", "PT") or value.endswith("T"):
        return None
    parts = match.groups()
    if all(part is None for part in parts):
        return None
    return sum(float(part.replace(",", ".")) * unit for part, unit in zip(parts, _UNIT_SECONDS, strict=True) if part)


@dataclass(frozen=True)
class ReplicationThresholds:
    max_lag_seconds: float
    max_agent_silence_seconds: float


@dataclass(frozen=True)
class ReplicationVerdict:
    server_id: str
    name: str
    ready: bool
    lag_seconds: float | None
    reasons: tuple[str, ...] = ()


def assess_replication(
    server: SourceServer, name: str, now: datetime, thresholds: ReplicationThresholds
) -> ReplicationVerdict:
    """Is the source server in continuous replication at `now`, and what is its lag (the RPO now)?"""
    info = server.data_replication_info
    reasons: list[str] = []
    state = info.data_replication_state
    if state is not DataReplicationState.CONTINUOUS:
        error = info.data_replication_error
        detail = f" ({error.error})" if error is not None and error.error else ""
        reasons.append(f"replication is {state.value if state else 'in no reported state'}{detail}")
    lag = None if info.lag_duration is None else duration_seconds(info.lag_duration)
    if info.lag_duration is None:
        reasons.append("no lag reported")
    elif lag is None:
        reasons.append(f"lag {info.lag_duration[:40]!r} is not an ISO-8601 duration")
    elif lag > thresholds.max_lag_seconds:
        reasons.append(f"lag {lag:.0f}s exceeds {thresholds.max_lag_seconds:.0f}s")
    seen_text = server.life_cycle.last_seen_by_service_date_time
    last_seen = _moment(seen_text)
    if seen_text is None:
        reasons.append("agent never seen")
    elif last_seen is None:
        reasons.append(f"agent last seen {seen_text[:40]!r}, which is not an ISO-8601 time with a zone")
    elif (now - last_seen).total_seconds() > thresholds.max_agent_silence_seconds:
        reasons.append(f"agent last seen {(now - last_seen).total_seconds():.0f}s ago")
    return ReplicationVerdict(
        server_id=server.id, name=name, ready=not reasons, lag_seconds=lag, reasons=tuple(reasons)
    )


def _moment(text: str | None) -> datetime | None:
    """An ISO-8601 time with a zone (`Z` or an offset), or None if it is not one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
