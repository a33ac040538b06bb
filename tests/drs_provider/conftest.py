"""Fixtures for the DRS provider's tests: the local DRS emulator on a clock the test moves, the
real boto3 `drs` client with the production retry configuration, and EC2 addresses read from the
emulator's fleet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from dr_autopilot.clients.aws import RETRY_CONFIG
from dr_autopilot.config import FailoverConfig
from dr_autopilot.providers.drs.client import DrsClient
from dr_autopilot.providers.drs.provider import DrsProvider

from local.drs import DrsEmulator, InMemoryFleet
from local.environment import base_context
from tests.drs_emulator.conftest import DrsFactory, clock, start_drs

__all__ = ["clock", "start_drs"]  # the emulator's fixtures, reused

EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:dr-autopilot-failover:run-1"
OTHER_EXECUTION = "arn:aws:states:eu-west-1:123456789012:execution:dr-autopilot-failover:run-0"


def drs_config(**overrides: Any) -> FailoverConfig:
    """The example configuration (cdk.json's), with DRS as the provider."""
    raw = {key: value for key, value in base_context()["drAutopilot"].items() if key != "cloudendure"}
    return FailoverConfig.parse({**raw, "provider": "drs", "drs": {}, **overrides})


class FleetAddresses:
    """EC2's answer for the emulator's recovery instances (satisfies `ports.InstanceAddresses`)."""

    def __init__(self, fleet: InMemoryFleet) -> None:
        self.fleet = fleet
        self.hidden: set[str] = set()  # instances to answer without an address

    def public_address(self, instance_id: str, want_dns_name: bool = False) -> str | None:
        found = self.fleet.instances.get(instance_id)
        if found is None or found[2] == "TERMINATED" or instance_id in self.hidden:
            return None
        public_ip = found[1]
        return f"ec2-{public_ip.replace('.', '-')}.eu-west-1.compute.amazonaws.com" if want_dns_name else public_ip


def boto3_drs(emulator: DrsEmulator, config: Config = RETRY_CONFIG) -> Any:
    """The real boto3 `drs` client, configured as in production, talking to the emulator."""
    return boto3.client(
        "drs",
        endpoint_url=emulator.base_url,
        region_name=emulator.arns.region,
        aws_access_key_id="emulated",
        aws_secret_access_key="emulated",
        config=config,
    )


@dataclass
class Site:
    """An emulated DRS account and the provider under test."""

    emulator: DrsEmulator
    provider: DrsProvider
    addresses: FleetAddresses
    drs: Any  # the boto3 client, for what an operator (or another execution) does by hand

    def calls(self, operation: str) -> int:
        return self.emulator.faults.calls.get(operation, 0)

    def advance(self, seconds: float) -> None:
        self.emulator.clock.advance(seconds)

    def server_ids(self) -> dict[str, str]:
        """Source server ID by hostname."""
        items = self.drs.describe_source_servers()["items"]
        return {item["sourceProperties"]["identificationHints"]["hostname"]: item["sourceServerID"] for item in items}

    def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.drs.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
        return job


SiteFactory = Callable[..., Site]


@pytest.fixture
def start_site(start_drs: DrsFactory) -> SiteFactory:
    """Start an emulated account (scenario, emulator options) and a provider for it; `wrap` puts
    a test double around the boto3 client the provider uses; `retries` replaces its botocore
    configuration (fewer attempts keep a test of exhausted retries short)."""

    def start(
        scenario: str = "two-tier",
        config: FailoverConfig | None = None,
        wrap: Callable[[Any], Any] | None = None,
        retries: Config = RETRY_CONFIG,
        **options: Any,
    ) -> Site:
        emulator = start_drs(scenario, **options)
        assert isinstance(emulator.fleet, InMemoryFleet)
        addresses = FleetAddresses(emulator.fleet)
        client = boto3_drs(emulator, retries)
        provider = DrsProvider(
            DrsClient(wrap(client) if wrap else client), config or drs_config(), addresses, now=emulator.clock.now
        )
        return Site(emulator, provider, addresses, client)

    return start


@pytest.fixture
def site(start_site: SiteFactory) -> Site:
    """The two-tier site (DBServer, WebServer) in continuous replication."""
    return start_site()
