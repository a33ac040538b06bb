"""CheckDnsRecord: the record this run would switch lies in the configured hosted zone.

Route 53 refuses a change to a name outside the zone, but only after everything was launched;
this refuses it before the launch, in dry runs too, naming the key to fix. Only this mode's
record is checked: a drill record mistake must never stand in the way of a real recovery."""

from __future__ import annotations

from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import RecordOutsideZone
from dr_autopilot.models import DnsCheck, Mode, WorkflowState
from dr_autopilot.ports import DnsRecords


def check_dns_record(state: WorkflowState, config: FailoverConfig, records: DnsRecords) -> DnsCheck:
    dns = config.dns
    zone = records.zone_name()
    if zone is None:
        raise RecordOutsideZone(
            f"hosted zone {dns.hosted_zone_id} (dns.hostedZoneId) does not exist or cannot be read. Nothing was launched."
        )
    drill = state.request.mode is Mode.DRILL
    key, name = ("dns.drillRecordName", dns.drill_record_name) if drill else ("dns.recordName", dns.record_name)
    if name is not None and not (name == zone or name.endswith("." + zone)):
        raise RecordOutsideZone(
            f"{key} {name!r} is not inside hosted zone {zone} ({dns.hosted_zone_id}): Route 53 would refuse the "
            "change after the launch. Nothing was launched."
        )
    return DnsCheck(zone_name=zone, record_name=name)
