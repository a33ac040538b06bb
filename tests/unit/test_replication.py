"""Pure replication decisions: Continuous Data Replication and the choice of recovery point."""

from __future__ import annotations

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


def machine(status: str = "STARTED", **info: object) -> Machine:
    replication_info = {
        "totalStorageBytes": 10 * GIB,
        "replicatedStorageBytes": 10 * GIB,
        "backloggedStorageBytes": 0,
        "rescannedStorageBytes": 0,
        "lastConsistencyDateTime": (NOW - timedelta(seconds=20)).isoformat(),
        "lastSeenDateTime": (NOW - timedelta(seconds=5)).isoformat(),
        **info,
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
    verdict = assess_replication(machine(), NOW, ReplicationThresholds(max_lag_seconds=60))
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
    verdict = assess_replication(machine(**info), NOW, ReplicationThresholds(max_lag_seconds=60))
    assert not verdict.ready
    assert any(reason in r for r in verdict.reasons)


def test_paused_replication_is_not_ready() -> None:
    verdict = assess_replication(machine(status="PAUSED"), NOW, ReplicationThresholds())
    assert not verdict.ready and "replication is PAUSED" in verdict.reasons


POINTS = [PointInTime(id=f"p{h}", dateTime=NOW - timedelta(hours=h)) for h in (5, 3, 1)]  # type: ignore[call-arg]


def test_latest_chooses_no_point_so_the_launch_takes_the_newest_data() -> None:
    assert choose_point_in_time(POINTS, None) is None


def test_timestamp_chooses_nearest_point_at_or_before_it() -> None:
    assert choose_point_in_time(POINTS, NOW - timedelta(hours=2)).id == "p3"  # type: ignore[union-attr]
    assert choose_point_in_time(POINTS, NOW - timedelta(hours=3)).id == "p3"  # type: ignore[union-attr]
    assert choose_point_in_time(POINTS, NOW).id == "p1"  # type: ignore[union-attr]


def test_timestamp_before_every_point_is_a_clear_error() -> None:
    with pytest.raises(NoPointInTime, match="no recovery point at or before"):
        choose_point_in_time(POINTS, NOW - timedelta(days=2))


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        choose_point_in_time(POINTS, datetime(2026, 11, 25, 1, 0))
