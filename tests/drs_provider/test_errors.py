"""DRS's errors as the workflow's named errors, botocore's retries, and the provider's wiring."""

from __future__ import annotations

import pytest
from botocore.config import Config
from dr_autopilot.clients.aws import client
from dr_autopilot.errors import AccessDenied, JobNotFound, ServiceUnavailable
from dr_autopilot.providers import provider_for
from dr_autopilot.providers.drs.provider import DrsProvider

from local.drs import FaultSpec
from local.drs.scenario import ErrorType
from tests.drs_provider.conftest import Site, SiteFactory, drs_config


def test_throttling_is_recovered_by_botocores_retries(site: Site) -> None:
    # Given DRS throttles the next listing once
    site.emulator.faults.arm(FaultSpec(operation="DescribeSourceServers", error_type=ErrorType.THROTTLING))
    # When replication is assessed, Then the answer comes through on the retry
    assert site.provider.assess_replication().ready == 2
    assert site.calls("DescribeSourceServers") == 2


def test_internal_errors_beyond_the_retries_are_service_unavailable(start_site: SiteFactory) -> None:
    # Given DRS fails every attempt botocore makes (two here, to keep the backoff short)
    site = start_site(retries=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    site.emulator.faults.arm(
        FaultSpec(operation="DescribeSourceServers", error_type=ErrorType.INTERNAL_SERVER, count=2)
    )
    # When replication is assessed, Then the workflow sees ServiceUnavailable (which it retries)
    with pytest.raises(ServiceUnavailable, match="InternalServerException"):
        site.provider.assess_replication()
    assert site.calls("DescribeSourceServers") == 2


def test_a_dropped_connection_is_retried(site: Site) -> None:
    # Given DRS drops the connection of the next listing
    site.emulator.faults.arm(FaultSpec(operation="DescribeSourceServers", drop=True))
    # When replication is assessed, Then the retry gets the answer
    assert site.provider.assess_replication().total == 2


def test_a_missing_permission_is_access_denied(site: Site) -> None:
    # Given the role lacks drs:DescribeSourceServers
    site.emulator.faults.arm(FaultSpec(operation="DescribeSourceServers", error_type=ErrorType.ACCESS_DENIED))
    # When replication is assessed, Then it is AccessDenied (not retried), asked once
    with pytest.raises(AccessDenied):
        site.provider.assess_replication()
    assert site.calls("DescribeSourceServers") == 1


def test_a_job_drs_does_not_know_is_named(site: Site) -> None:
    # When an unknown job is polled, Then JobNotFound names it
    with pytest.raises(JobNotFound, match="drsjob-00000000000000000"):
        site.provider.job_snapshot("drsjob-00000000000000000", seen=0)


def test_the_drs_provider_is_built_for_its_configured_region() -> None:
    # Given a configuration with DRS in another region
    config = drs_config(drs={"region": "eu-central-1"})
    # When the provider is built
    provider = provider_for(config)
    # Then it is the DRS provider, with DRS and EC2 clients of that region
    assert isinstance(provider, DrsProvider)
    assert repr(provider._client) == "DrsClient(region='eu-central-1')"
    assert client("ec2", "eu-central-1").meta.region_name == "eu-central-1"
