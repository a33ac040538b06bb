"""The final message goes out before the clean-up; a clean-up failure is reported on its own."""

from __future__ import annotations

import pytest
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment

pytestmark = pytest.mark.workflow


def test_a_lock_table_failing_at_the_end_does_not_change_the_outcome(env: LocalFailoverEnvironment) -> None:
    # Given the lock table refuses every update once DNS is switched (the release at the end is one)
    env.aws.fail_calls_after(StateName.UPDATE_DNS, "dynamodb", "UpdateItem", "InternalServerError")
    try:
        # When on-call starts a failover
        result = env.executions.run({"requestedBy": "alice"})
    finally:
        env.aws.clear_faults("dynamodb", "UpdateItem")
    # Then the failover SUCCEEDED and DNS is on the recovered webserver
    assert result.status == "SUCCEEDED", result.cause
    assert env.site.record_values() == [result.output["recoveredAddress"]] != [PRIMARY_ADDRESS]  # type: ignore[index]
    # And exactly one final message says so, followed by one saying the clean-up failed
    subjects = [m["subject"] for m in env.site.notifications()]
    finals = [s for s in subjects if s.endswith(("succeeded", "failed"))]
    assert finals == ["[DR Autopilot] recovery succeeded"]
    assert subjects[-1] == "[DR Autopilot] recovery: clean-up failed (lock not released)"
    assert subjects.index(finals[0]) == len(subjects) - 2
