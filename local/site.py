"""The site around the workflow in local AWS: the website's DNS record, the failover lock and
the messages on-call staff received. Built from the product's own Route 53 client and lock id,
so the drill reads and writes them exactly as the functions do."""

from __future__ import annotations

import json
from typing import Any

from dr_autopilot.clients.lock import LOCK_IDS, READINESS_ID
from dr_autopilot.clients.route53 import Route53Records
from dr_autopilot.config import DnsConfig
from dr_autopilot.environment import Variable
from dr_autopilot.models import Mode

from local.aws import Deployment, LocalAws

PRIMARY_ADDRESS = "192.0.2.10"  # the failed primary webserver (TEST-NET-1: never contacted)
PRIMARY_TTL = 60


class SiteFixture:
    """DNS, lock and notifications of one deployment."""

    def __init__(self, aws: LocalAws, deployment: Deployment, dns: DnsConfig) -> None:
        self._aws = aws
        self._deployment = deployment
        self._dns = dns
        self._records = Route53Records(dns.hosted_zone_id, route53=aws.client("route53"))

    @property
    def record_name(self) -> str:
        return self._dns.record_name

    def reset(self) -> None:
        """Back to 'the primary has just failed': DNS on the primary, no drill record, no lock, no
        readiness verdict, no messages."""
        self.reset_lock()
        self._aws.client("dynamodb").delete_item(TableName=self.lock_table, Key={"id": {"S": READINESS_ID}})
        zone = self._records.zone_name()
        if zone is not None and (self.record_name == zone or self.record_name.endswith("." + zone)):
            self.set_record(self.record_name, PRIMARY_ADDRESS)  # (a record outside the zone cannot exist)
        drill = self._dns.drill_record_name
        left = self._records.current(drill, self._dns.record_type) if drill and drill != self.record_name else None
        if left is not None:  # an earlier drill's, not cleaned up
            self._records.restore(left, None, comment="local drill: no drill record")
        self.notifications()  # drain (SQS allows one purge a minute)

    def set_record(self, name: str, value: str) -> None:
        self._records.upsert(name, self._dns.record_type, value, PRIMARY_TTL, comment="local drill: the primary")

    def record_values(self, name: str | None = None) -> list[str]:
        record = self._records.current(name or self.record_name, self._dns.record_type)
        return record.values if record else []

    @property
    def lock_table(self) -> str:
        """The one lock table every function that needs it is given."""
        (table,) = {
            spec.environment[Variable.LOCK_TABLE]
            for spec in self._deployment.functions.values()
            if spec.environment.get(Variable.LOCK_TABLE)
        }
        return table

    def lock_holder(self, lock_id: str = LOCK_IDS[Mode.RECOVERY]) -> str | None:
        """Who the lock item names (held, or in its cool-down), or None if there is none."""
        item = self._aws.client("dynamodb").get_item(TableName=self.lock_table, Key={"id": {"S": lock_id}})
        holder = item.get("Item", {}).get("holder", {}).get("S")
        return str(holder) if holder else None

    def reset_lock(self) -> None:
        """Forget the recovery and drill locks (a new outage, long after the last one)."""
        for lock_id in LOCK_IDS.values():
            self._aws.client("dynamodb").delete_item(TableName=self.lock_table, Key={"id": {"S": lock_id}})

    def notifications(self) -> list[dict[str, str]]:
        """Every SNS message published since the last call (subject, message), oldest first."""
        sqs = self._aws.client("sqs")
        messages: list[dict[str, str]] = []
        while True:
            batch: list[dict[str, Any]] = sqs.receive_message(
                QueueUrl=self._deployment.probe_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                return messages
            for message in batch:
                envelope = json.loads(message["Body"])
                messages.append({"subject": envelope.get("Subject", ""), "message": envelope["Message"]})
                sqs.delete_message(QueueUrl=self._deployment.probe_queue_url, ReceiptHandle=message["ReceiptHandle"])
