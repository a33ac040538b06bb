"""The hosted zone's name, as CheckDnsRecord reads it (moto Route 53)."""

from __future__ import annotations

import boto3
from dr_autopilot.clients.route53 import Route53Records
from moto import mock_aws


@mock_aws
def test_the_zone_name_is_read_normalised_and_a_missing_zone_is_none() -> None:
    # Given a hosted zone Example.COM.
    route53 = boto3.client("route53", region_name="us-east-1")
    zone_id = route53.create_hosted_zone(Name="Example.COM.", CallerReference="test")["HostedZone"]["Id"]
    # When its name is read, and the name of a zone that does not exist
    # Then the first is lower case without the trailing dot, the second is None (not an error)
    assert Route53Records(zone_id.split("/")[-1], route53=route53).zone_name() == "example.com"
    assert Route53Records("Z0000000000NOSUCHZONE", route53=route53).zone_name() is None
