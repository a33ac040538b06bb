"""Pure replication decisions: Continuous Data Replication and the choice of recovery point."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from dr_autopilot.errors import NoPointInTime
from dr_autopilot.providers.cloudendure.models import Machine, PointInTime
from dr_autopilot.providers.cloudendure.replication import (
    ReplicationThresholds,
    assess_replication,
    choose_point_in_time,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
GIB = 1024**3


def machine(status: str = "STARTED", info: Mapping[str, object] | None = None) -> Machine:
    """A machine as CloudEndure lists it, healthy unless `info` overrides its replication fields."""
    replication_info = {
        "totalStorageBytes": 10 * GIB,
        "replicatedStorageBytes": 10 * GIB,
        "backloggedStorageBytes": 0,
        "rescannedStorageBytes": 0,
        "lastConsistencyDateTime": (NOW - timedelta(seconds=20)).isoformat(),
        "lastSeenDateTime": (NOW - timedelta(seconds=5)).isoformat(),
        **(info or {}),
    }
    return Machine.model_validate(
        {
            "id": "m-1",
            "sourceProperties": {"name": "WebServer"},
            "replicationStatus": status,
            "replicationInfo": replication_info,
        }
    )


def test_machine_in_continuous_replication_is_ready_with_its_lag() -> None:
    # Given a machine fully replicated, its last consistency point 20 seconds old
    healthy = machine()
    # When replication is assessed against a 60-second lag limit
    verdict = assess_replication(healthy, NOW, ReplicationThresholds(max_lag_seconds=60))
    # Then it is ready for failover, and the lag reported is those 20 seconds
    assert verdict.ready
    assert verdict.lag_seconds == pytest.approx(20)


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        ({"lastConsistencyDateTime": (NOW - timedelta(minutes=30)).isoformat()}, "lag 1800s exceeds 60s"),
        ({"backloggedStorageBytes": 5}, "backlogged"),
        ({"rescannedStorageBytes": 5}, "rescan"),
        ({"replicatedStorageBytes": 3 * GIB}, "bytes replicated"),
        ({"lastConsistencyDateTime": None}, "no consistency point"),
        ({"lastSeenDateTime": (NOW - timedelta(hours=1)).isoformat()}, "agent last seen"),
    ],
)
def test_machine_not_ready_names_the_reason(info: dict[str, object], reason: str) -> None:
    # Given a replicating machine with one problem: too much lag, a backlog, a rescan, bytes not yet
    # replicated, no consistency point, or an agent that has gone quiet
    lagging = machine(info=info)
    # When replication is assessed against a 60-second lag limit
    verdict = assess_replication(lagging, NOW, ReplicationThresholds(max_lag_seconds=60))
    # Then it is not ready, and one of the reasons names that problem
    assert not verdict.ready
    assert any(reason in r for r in verdict.reasons)


def test_paused_replication_is_not_ready() -> None:
    # Given a machine whose replication is paused
    paused = machine(status="PAUSED")
    # When replication is assessed with the default thresholds
    verdict = assess_replication(paused, NOW, ReplicationThresholds())
    # Then it is not ready, and the reason says replication is paused
    assert not verdict.ready and "replication is PAUSED" in verdict.reasons


POINTS = [PointInTime(id=f"p{h}", dateTime=NOW - timedelta(hours=h)) for h in (5, 3, 1)]


def chosen_id(requested: datetime | None) -> str | None:
    """The id of the recovery point chosen among POINTS for `requested`, or None if none is chosen."""
    point = choose_point_in_time(POINTS, requested)
    return point.id if point is not None else None


def test_latest_chooses_no_point_so_the_launch_takes_the_newest_data() -> None:
    # Given recovery points 5, 3 and 1 hours old
    # When the operator asks for the latest data (no timestamp)
    # Then no point is chosen, so CloudEndure launches from a final snapshot of the newest data
    assert choose_point_in_time(POINTS, None) is None


def test_timestamp_chooses_nearest_point_at_or_before_it() -> None:
    # Given recovery points 5, 3 and 1 hours old
    # When the operator asks for a time between two points
    # Then the newer point before that time is chosen, never one after it
    assert chosen_id(NOW - timedelta(hours=2)) == "p3"
    # And a time that matches a point exactly chooses that point
    assert chosen_id(NOW - timedelta(hours=3)) == "p3"
    # And a time after every point chooses the newest one
    assert chosen_id(NOW) == "p1"


def test_timestamp_before_every_point_is_a_clear_error() -> None:
    # Given recovery points 5, 3 and 1 hours old
    # When the operator asks for a time two days ago, older than every point
    # Then the choice fails with NoPointInTime, saying no point is at or before that time
    with pytest.raises(NoPointInTime, match="no recovery point at or before"):
        choose_point_in_time(POINTS, NOW - timedelta(days=2))


def test_naive_timestamp_is_refused() -> None:
    # Given recovery points with time zones
    # When the operator asks for a time without a time zone
    # Then it is refused rather than guessed, the error mentioning the time zone
    with pytest.raises(ValueError, match="time zone"):
        choose_point_in_time(POINTS, datetime(2026, 11, 25, 1, 0))
