"""The EC2 fallback from a launched instance id to its public address (moto EC2)."""

from __future__ import annotations

import boto3
from dr_autopilot.clients.ec2 import InstanceDirectory
from moto import mock_aws


@mock_aws
def test_public_address_and_dns_name_come_from_ec2_and_unknown_instances_have_none() -> None:
    # Given a running instance (what CloudEndure launched) in EC2
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    # When the instance directory looks up its public address, by IP and by DNS name
    directory = InstanceDirectory(ec2)
    # Then its public IP and DNS name are the ones EC2 reports
    assert directory.public_address(instance["InstanceId"]) == described["PublicIpAddress"]
    assert directory.public_address(instance["InstanceId"], want_dns_name=True) == described["PublicDnsName"]
    # And an instance EC2 does not know has no address, rather than an error
    assert directory.public_address("i-0123456789abcdef0") is None
