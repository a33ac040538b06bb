"""ChooseRecoveryPoint: check that every machine can be recovered to the requested point."""

from __future__ import annotations

from dr_autopilot.models import RecoveryPoint, WorkflowState
from dr_autopilot.ports import RecoveryProvider


def choose_recovery_point(state: WorkflowState, provider: RecoveryProvider) -> RecoveryPoint:
    return provider.resolve_recovery_point(state.request.point_in_time)
