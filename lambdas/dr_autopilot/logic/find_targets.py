"""FindTargets: the recovered webserver's address (replica public IP, EC2 as fallback)."""

from __future__ import annotations

from dr_autopilot.config import DnsConfig
from dr_autopilot.errors import MissingStepResult
from dr_autopilot.models import Target, WorkflowState
from dr_autopilot.ports import RecoveryProvider


def find_targets(state: WorkflowState, provider: RecoveryProvider, dns: DnsConfig) -> Target:
    if state.launch is None:
        raise MissingStepResult("FindTargets: no launch job in this execution's state")
    return provider.find_target(state.launch.job_id, want_dns_name=dns.record_type == "CNAME")
