"""FindTargets: the recovered webserver's address (replica public IP, EC2 as fallback), and the
record as it is before this execution changes it (the way back)."""

from __future__ import annotations

from dr_autopilot.config import DnsConfig, WaveConfig
from dr_autopilot.errors import MissingStepResult
from dr_autopilot.models import Mode, Target, WorkflowState
from dr_autopilot.ports import DnsRecords, RecoveryProvider


def find_targets(
    state: WorkflowState,
    provider: RecoveryProvider,
    dns: DnsConfig,
    records: DnsRecords,
    webserver: str,
    waves: list[WaveConfig] | None = None,
) -> Target:
    if state.launch is None:
        raise MissingStepResult("FindTargets: no launch job in this execution's state")
    # With a recovery plan: the wave that launched the webserver, after the last wave completed.
    launch = state.launch.webserver_wave(webserver, waves)
    target = provider.find_target(launch, want_dns_name=dns.record_type == "CNAME")
    name = dns.record_name if state.request.mode is Mode.RECOVERY else dns.drill_record_name
    if name is None:
        return target
    return target.model_copy(
        update={"record_before": records.current(name, dns.record_type), "record_before_read": True}
    )
