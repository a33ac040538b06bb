"""LaunchRecovery: start the launch job (RECOVERY, or TEST for a drill) — at most once per execution."""

from __future__ import annotations

from datetime import UTC, datetime

from dr_autopilot.errors import MissingStepResult
from dr_autopilot.logic.lock import ensure_still_held
from dr_autopilot.models import LaunchResult, WorkflowState
from dr_autopilot.ports import FailoverLock, RecoveryProvider


def launch_recovery(state: WorkflowState, provider: RecoveryProvider, lock: FailoverLock) -> LaunchResult:
    if state.replication is None:
        raise MissingStepResult("refusing to launch: replication has not been checked in this execution")
    ensure_still_held(state, lock, "launch")
    request = state.request
    result = provider.launch(
        request.mode,
        request.point_in_time,
        not_before=state.replication.checked_at,
        execution_id=request.execution_id,
        checked_machines=state.replication.machines_digest,
    )
    return result.model_copy(update={"requested_at": datetime.now(UTC)})
