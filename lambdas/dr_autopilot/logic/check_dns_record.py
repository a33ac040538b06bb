"""CheckDnsRecord: the record this run would switch lies in the configured hosted zone.

Route 53 refuses a change to a name outside the zone, but only after everything was launched;
this refuses it before the launch, in dry runs too, naming the key to fix. Only this mode's
record is checked: a drill record mistake must never stand in the way of a real recovery."""

from __future__ import annotations

from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import RecordOutsideZone, RecordTypeConflict
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
    if name is not None:
        _switchable(name, key, zone, dns.record_type, records)
    return DnsCheck(zone_name=zone, record_name=name)


def _switchable(name: str, key: str, zone: str, record_type: str, records: DnsRecords) -> None:
    """Route 53 would take an UPSERT of `name`: no CNAME at the apex, no record of a conflicting
    type at the name (found by the red team: both passed dry runs and failed after the launch)."""
    if record_type == "CNAME" and name == zone:
        raise RecordTypeConflict(
            f"{key} {name!r} is the zone apex, where Route 53 allows no CNAME: use dns.recordType A. "
            "Nothing was launched."
        )
    for other in ("CNAME",) if record_type == "A" else ("A", "AAAA"):
        if records.current(name, other) is not None:
            raise RecordTypeConflict(
                f"{key} {name!r} already has a {other} record, which Route 53 will not let a {record_type} record "
                f"join: change it, or set dns.recordType to {other if other != 'AAAA' else 'A'}. Nothing was launched."
            )
