"""Route 53: read a record, UPSERT it, wait until the change is INSYNC."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr_autopilot.clients.aws import client
from dr_autopilot.errors import (
    DnsChangePending,
    DnsRecordChanged,
    DnsThrottled,
    DnsUpdateFailed,
    ServiceUnavailable,
)
from dr_autopilot.models import RecordValue

THROTTLING = {"Throttling", "ThrottlingException", "PriorRequestNotComplete"}


def _fqdn(name: str) -> str:
    return name if name.endswith(".") else name + "."


def _record_set(record: RecordValue) -> dict[str, Any]:
    values = {"ResourceRecords": [{"Value": value} for value in record.values]}
    return {
        "Name": _fqdn(record.name),
        "Type": record.type,
        **({"TTL": record.ttl} if record.ttl is not None else {}),
        **values,
    }


class Route53Records:
    """The records of one hosted zone (satisfies `ports.DnsRecords`)."""

    def __init__(
        self, hosted_zone_id: str, route53: Any | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._zone = hosted_zone_id
        self._route53 = route53 or client("route53")
        self._sleep = sleep

    def zone_name(self) -> str | None:
        """The zone's name (lower case, no trailing dot), or None if there is no such zone."""
        try:
            zone = self._route53.get_hosted_zone(Id=self._zone)["HostedZone"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "NoSuchHostedZone":
                return None
            raise ServiceUnavailable(f"could not read hosted zone {self._zone}: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not read hosted zone {self._zone}: {error}") from error
        return str(zone["Name"]).rstrip(".").lower()

    def current(self, name: str, record_type: str) -> RecordValue | None:
        """The record as it is now, or None if it does not exist."""
        try:
            answer = self._route53.list_resource_record_sets(
                HostedZoneId=self._zone, StartRecordName=_fqdn(name), StartRecordType=record_type, MaxItems="1"
            )
        except (ClientError, BotoCoreError) as error:
            raise DnsUpdateFailed(f"could not read {name} {record_type} in zone {self._zone}: {error}") from error
        for record in answer.get("ResourceRecordSets", []):
            if record["Name"].rstrip(".").lower() == name.rstrip(".").lower() and record["Type"] == record_type:
                return RecordValue(
                    name=name,
                    type=record_type,
                    values=[item["Value"] for item in record.get("ResourceRecords", [])],
                    ttl=record.get("TTL"),
                )
        return None

    def upsert(self, name: str, record_type: str, value: str, ttl: int, comment: str) -> str:
        """UPSERT the record (idempotent: repeating it changes nothing); returns the change id."""
        try:
            answer = self._route53.change_resource_record_sets(
                HostedZoneId=self._zone,
                ChangeBatch={
                    "Comment": comment[:256],
                    "Changes": [
                        {
                            "Action": "UPSERT",
                            "ResourceRecordSet": {
                                "Name": _fqdn(name),
                                "Type": record_type,
                                "TTL": ttl,
                                "ResourceRecords": [{"Value": value}],
                            },
                        }
                    ],
                },
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in THROTTLING:
                raise DnsThrottled(f"Route 53 throttled the UPSERT of {name} {record_type}: {error}") from error
            raise DnsUpdateFailed(f"Route 53 refused the UPSERT of {name} {record_type}: {error}") from error
        except BotoCoreError as error:
            raise DnsUpdateFailed(f"Route 53 refused the UPSERT of {name} {record_type}: {error}") from error
        return str(answer["ChangeInfo"]["Id"])

    def restore(self, ours: RecordValue, previous: RecordValue | None, comment: str) -> str:
        """DELETE the record as `ours` (exact values and TTL: Route 53 refuses the whole batch
        otherwise) and CREATE `previous`, in one atomic change. Returns the change id."""
        changes = [{"Action": "DELETE", "ResourceRecordSet": _record_set(ours)}]
        if previous is not None:
            changes.append({"Action": "CREATE", "ResourceRecordSet": _record_set(previous)})
        try:
            answer = self._route53.change_resource_record_sets(
                HostedZoneId=self._zone, ChangeBatch={"Comment": comment[:256], "Changes": changes}
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code in THROTTLING:
                raise DnsThrottled(f"Route 53 throttled the restore of {ours.name} {ours.type}: {error}") from error
            if code in ("InvalidChangeBatch", "InvalidInput"):
                raise DnsRecordChanged(
                    f"{ours.name} {ours.type} is no longer {', '.join(ours.values)}: {error}"
                ) from error
            raise DnsUpdateFailed(f"Route 53 refused the restore of {ours.name} {ours.type}: {error}") from error
        except BotoCoreError as error:
            raise DnsUpdateFailed(f"Route 53 refused the restore of {ours.name} {ours.type}: {error}") from error
        return str(answer["ChangeInfo"]["Id"])

    def wait_insync(self, change_id: str, timeout_seconds: float, interval_seconds: float = 2.0) -> datetime:
        """Wait until the change is INSYNC; DnsChangePending if it is not within the timeout."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            try:
                status = self._route53.get_change(Id=change_id)["ChangeInfo"]["Status"]
            except (ClientError, BotoCoreError) as error:
                raise DnsUpdateFailed(f"could not read the status of change {change_id}: {error}") from error
            if status == "INSYNC":
                return datetime.now(UTC)
            if time.monotonic() >= deadline:
                raise DnsChangePending(f"change {change_id} still {status} after {timeout_seconds:.0f}s")
            self._sleep(interval_seconds)
