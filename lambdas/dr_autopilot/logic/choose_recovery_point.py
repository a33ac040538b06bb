"""ChooseRecoveryPoint: check that every machine can be recovered to the requested point."""

from __future__ import annotations

from dr_autopilot.models import RecoveryPoint, WorkflowState
from dr_autopilot.ports import RecoveryProvider


def choose_recovery_point(state: WorkflowState, provider: RecoveryProvider) -> RecoveryPoint:
    """A timestamp is looked up for every machine. "Latest" asks the provider nothing: every
    provider launches from the newest data when given no point, and the machines were listed and
    checked by the replication check a moment ago (listing 3,000 DRS source servers again would
    cost seconds before the launch)."""
    requested = state.request.point_in_time
    if requested is None and state.replication is not None:
        return RecoveryPoint(requested="latest", machine_count=state.replication.total)
    return provider.resolve_recovery_point(requested)
