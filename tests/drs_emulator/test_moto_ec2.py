"""Recovery instances in moto's EC2: the pipeline's EC2 client finds them and their addresses."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from local.aws import MOTO_CONFIG
from local.drs.ec2 import LOOPBACK_PASSTHROUGH, MotoEc2Fleet, with_drs_passthrough
from tests.drs_emulator.conftest import Drs, DrsFactory, connect


@pytest.fixture(scope="module")
def local_aws() -> Iterator[None]:
    """moto as local AWS starts it (`local.aws.MOTO_CONFIG`), with the emulator's passthrough added;
    one for the module, as moto's EC2 backend takes a while to build."""
    with mock_aws(config=with_drs_passthrough(MOTO_CONFIG)):
        yield


@pytest.fixture
def drs_in_local_aws(local_aws: None, start_drs: DrsFactory) -> Drs:
    return connect(start_drs(fleet=MotoEc2Fleet(region="eu-west-1")))


def recover_webserver(drs: Drs) -> dict[str, Any]:
    web = drs.server_ids()["WebServer"]
    drs.client.start_recovery(sourceServers=[{"sourceServerID": web}])
    drs.clock.advance(240)
    instance: dict[str, Any] = drs.client.describe_recovery_instances(filters={"sourceServerIDs": [web]})["items"][0]
    return instance


def test_passthrough_config_keeps_local_aws_settings_and_adds_the_emulator(drs_in_local_aws: Drs) -> None:
    # Given local AWS's moto configuration
    original: dict[str, Any] = copy.deepcopy(MOTO_CONFIG)
    # When the DRS passthrough is added to it
    config = with_drs_passthrough(MOTO_CONFIG)
    # Then the original is untouched, its other passthrough settings are kept, and the emulator's
    # operation URLs are let through
    assert original == MOTO_CONFIG
    kept = {name: value for name, value in config["core"]["passthrough"].items() if name != "urls"}
    assert kept == {name: value for name, value in original["core"]["passthrough"].items() if name != "urls"}
    assert config["core"]["passthrough"]["urls"][-1] == LOOPBACK_PASSTHROUGH
    assert re.match(LOOPBACK_PASSTHROUGH, f"{drs_in_local_aws.emulator.base_url}/DescribeSourceServers")


def test_drs_calls_reach_the_emulator_inside_local_aws(drs_in_local_aws: Drs, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the emulator's endpoint in AWS_ENDPOINT_URL_DRS, as the pipeline's handlers would get it
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", drs_in_local_aws.emulator.base_url)
    # When a plain boto3 drs client is made inside moto's mock and called
    client = boto3.client("drs", region_name="eu-west-1")
    # Then the emulator answers it (moto did not swallow the call)
    assert len(client.describe_source_servers()["items"]) == 2
    assert drs_in_local_aws.emulator.info()["calls"]["DescribeSourceServers"] >= 1


def test_recovered_webserver_is_an_ec2_instance_whose_public_ip_serves_the_landing_page(drs_in_local_aws: Drs) -> None:
    # Given a completed recovery of the webserver with the moto fleet
    drs = drs_in_local_aws
    instance = recover_webserver(drs)
    # When EC2 is asked about the recovery instance
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    described = ec2.describe_instances(InstanceIds=[instance["ec2InstanceID"]])["Reservations"][0]["Instances"][0]
    # Then it runs, tagged as DRS tags its instances, with the public address DRS listed
    assert described["State"]["Name"] == "running"
    tags = {tag["Key"]: tag["Value"] for tag in described["Tags"]}
    assert tags["AWSElasticDisasterRecoverySourceServerID"] == instance["sourceServerID"]
    assert tags["Name"] == "WebServer"
    assert described["PublicIpAddress"] in instance["recoveryInstanceProperties"]["networkInterfaces"][0]["ips"]
    # And that address serves the landing page
    url = f"http://{described['PublicIpAddress']}:{drs.emulator.landing_port}/"
    assert "Hello from the PHP webserver" in requests.get(url, timeout=5).text


def test_terminating_the_recovery_instance_terminates_the_ec2_instance(drs_in_local_aws: Drs) -> None:
    drs = drs_in_local_aws
    instance = recover_webserver(drs)
    # When the recovery instance is terminated and the job completes
    drs.client.terminate_recovery_instances(recoveryInstanceIDs=[instance["recoveryInstanceID"]])
    drs.clock.advance(60)
    assert drs.client.describe_recovery_instances()["items"] == []
    # Then EC2 shows the instance terminated, with no public address any more
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    described = ec2.describe_instances(InstanceIds=[instance["ec2InstanceID"]])["Reservations"][0]["Instances"][0]
    assert described["State"]["Name"] == "terminated"
    assert "PublicIpAddress" not in described


def test_an_instance_stopped_in_ec2_shows_stopped_in_drs(drs_in_local_aws: Drs) -> None:
    drs = drs_in_local_aws
    instance = recover_webserver(drs)
    # When someone stops the instance through EC2
    boto3.client("ec2", region_name="eu-west-1").stop_instances(InstanceIds=[instance["ec2InstanceID"]])
    # Then DRS reports its EC2 state as STOPPED
    again = drs.client.describe_recovery_instances()["items"][0]
    assert again["ec2InstanceState"] == "STOPPED"


def test_a_job_launches_its_instances_into_ec2_while_nobody_asks_drs(drs_in_local_aws: Drs) -> None:
    # Given a recovery of both servers, accepted
    drs = drs_in_local_aws
    ids = drs.server_ids()
    ec2 = boto3.client("ec2", region_name="eu-west-1")
    by_server = [{"Name": "tag:AWSElasticDisasterRecoverySourceServerID", "Values": list(ids.values())}]

    def running() -> dict[str, Any]:
        reservations = ec2.describe_instances(Filters=by_server)["Reservations"]
        return {i["InstanceId"]: i for r in reservations for i in r["Instances"] if i["State"]["Name"] == "running"}

    earlier = set(running())  # this module's other tests' instances of the same servers
    drs.client.start_recovery(sourceServers=[{"sourceServerID": one} for one in ids.values()])
    calls = dict(drs.emulator.info()["calls"])
    # When the job's time passes and only EC2 is asked
    drs.clock.advance(240)
    deadline = time.monotonic() + 5
    instances: list[dict[str, Any]] = []
    while len(instances) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
        instances = [i for instance_id, i in running().items() if instance_id not in earlier]
    # Then both instances run in EC2, each with its own server's tags and its own public address
    tags = [{tag["Key"]: tag["Value"] for tag in i["Tags"]} for i in instances]
    assert sorted((t["Name"], t["AWSElasticDisasterRecoverySourceServerID"]) for t in tags) == sorted(ids.items())
    assert len({i["PublicIpAddress"] for i in instances}) == 2
    # And DRS was not asked anything meanwhile
    assert drs.emulator.info()["calls"] == calls
