"""CheckReplication: refuse to fail over machines that are not ready (CloudEndure: in Continuous
Data Replication; DRS: data replication CONTINUOUS), lag too far or whose agent went silent."""

from __future__ import annotations

from datetime import UTC, datetime

from dr_autopilot.errors import ReplicationNotReady
from dr_autopilot.models import ReplicationReport, WorkflowState
from dr_autopilot.ports import RecoveryProvider


def check_replication(state: WorkflowState, provider: RecoveryProvider) -> ReplicationReport:
    """The provider's verdict; machines not ready refuse the failover unless it is forced. A
    readiness run is refused nothing: it records the same verdict, goes on to the other checks
    (so that one message names every reason) and launches nothing."""
    report = provider.assess_replication()
    if state.request.readiness:
        return report.model_copy(update={"forced": False, "observed_at": datetime.now(UTC)})
    if report.not_ready and not state.request.force:
        listed = "; ".join(f"{p.name}: {', '.join(p.reasons)}" for p in report.problems)
        more = (
            f" (and {report.not_ready - len(report.problems)} more)" if report.not_ready > len(report.problems) else ""
        )
        raise ReplicationNotReady(
            f"{report.not_ready} of {report.total} machines are not {report.ready_means}: {listed}{more}. "
            'Nothing was launched. Start again with "force": true to fail over anyway.'
        )
    return report.model_copy(update={"forced": report.not_ready > 0, "observed_at": datetime.now(UTC)})
