"""EC2: the fallback way from a launched instance id to its public address."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr_autopilot.clients.aws import client


class InstanceDirectory:
    """EC2's view of launched instances (satisfies `ports.InstanceAddresses`)."""

    def __init__(self, ec2: Any | None = None) -> None:
        self._ec2 = ec2 or client("ec2")

    def public_address(self, instance_id: str, want_dns_name: bool = False) -> str | None:
        """The instance's public IPv4 (or public DNS name), None if it has none or does not exist."""
        try:
            reservations = self._ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code", "").startswith("InvalidInstanceID"):
                return None
            raise
        except BotoCoreError:
            raise
        for reservation in reservations:
            for instance in reservation.get("Instances", []):
                value = instance.get("PublicDnsName") if want_dns_name else instance.get("PublicIpAddress")
                if value:
                    return str(value)
        return None
