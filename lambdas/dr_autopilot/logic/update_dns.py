"""UpdateDns: UPSERT the site's record to the healthy recovered webserver and wait for INSYNC."""

from __future__ import annotations

from dr_autopilot.config import DnsConfig, HealthCheckConfig
from dr_autopilot.errors import TargetUnhealthy
from dr_autopilot.logic.health_check import landing_url
from dr_autopilot.logic.lock import ensure_still_held
from dr_autopilot.models import DnsResult, Mode, RecordValue, WorkflowState
from dr_autopilot.ports import DnsRecords, FailoverLock


def update_dns(
    state: WorkflowState, dns: DnsConfig, health: HealthCheckConfig, records: DnsRecords, lock: FailoverLock
) -> DnsResult:
    target, checked = state.target, state.health
    # Defence in depth: the workflow only gets here after a healthy probe, but DNS must never
    # point at a target that did not pass its health check, whatever path led here.
    if target is None or checked is None or not checked.healthy or checked.url != landing_url(target.address, health):
        raise TargetUnhealthy("refusing to change DNS: the target has not passed its health check in this execution")
    ensure_still_held(state, lock, "change DNS")
    name = dns.record_name if state.request.mode is Mode.RECOVERY else dns.drill_record_name
    if name is None:
        return DnsResult(skipped=True, detail="drill without a drillRecordName: DNS left unchanged")
    # The value FindTargets read before any change; read here only for a state that lacks it.
    previous = target.record_before if target.record_before_read else records.current(name, dns.record_type)
    change_id = records.upsert(
        name, dns.record_type, target.address, dns.ttl, comment=f"DR Autopilot {state.request.execution_name}"
    )
    insync_at = records.wait_insync(change_id, dns.insync_timeout_seconds)
    return DnsResult(
        previous=previous,
        current=RecordValue(name=name, type=dns.record_type, values=[target.address], ttl=dns.ttl),
        change_id=change_id,
        insync_at=insync_at,
    )
