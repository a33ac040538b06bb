"""The same synthesized workflow with "provider": "drs", against the local AWS Elastic Disaster
Recovery (local/drs, served to the real boto3 client) whose recovery instances are EC2 instances
in local AWS: what only DRS has (the EC2 instance behind the address, a server whose launch
fails while its job COMPLETES, jobs found again by their tag). The paths every provider shares
run on DRS too, from the modules that mark them ON_BOTH_PROVIDERS."""

from __future__ import annotations

import pytest
import requests
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from tests.workflow.conftest import assert_failed_safely

# In the DRS session (`pytest -m drs_environment`), with its own local AWS.
pytestmark = [pytest.mark.workflow, pytest.mark.drs_environment]


@pytest.fixture
def provider_name() -> str:
    """Every test here runs on DRS only (the tests marked ON_BOTH_PROVIDERS elsewhere run on it too)."""
    return "drs"


def test_a_drs_recovery_switches_dns_to_the_recovered_ec2_instance(env: LocalFailoverEnvironment) -> None:
    # Given both source servers replicate continuously in DRS
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then one recovery job was started, tagged with this execution
    assert result.status == "SUCCEEDED", result.cause
    assert env.provider.launches_accepted == 1
    (job,) = env.emulator.account.jobs.jobs.values()
    assert job.initiated_by == "START_RECOVERY" and job.tags["dr-autopilot:execution"] == result.arn
    # And DNS points at the recovery instance's public address, as EC2 reports it, which serves the page
    address = result.output["recoveredAddress"] if result.output else None
    instance_ids = list(env.emulator.account.instances.items)  # a recovery instance's id is its EC2 id
    described = env.aws.client("ec2").describe_instances(InstanceIds=instance_ids)["Reservations"]
    addresses = [instance.get("PublicIpAddress") for r in described for instance in r["Instances"]]
    assert len(instance_ids) == 2 and address in addresses
    assert env.site.record_values() == [address] != [PRIMARY_ADDRESS]
    page = requests.get(f"http://{address}:{env.provider.landing_port}/", timeout=5)
    assert "Hello from the PHP webserver" in page.text


@pytest.mark.parametrize(
    ("scenario", "error", "words", "launches"),
    [
        ("job-fails", "JobFailed", "Launch FAILED for WebServer", 1),
    ],
)
def test_drs_failure_paths_fail_safely(
    env: LocalFailoverEnvironment, scenario: str, error: str, words: str, launches: int
) -> None:
    # Given DRS in the scenario (a server lagging; a server whose launch fails while the job completes)
    env.reset_site(scenario)
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then it fails with the named error, DNS unchanged, at most the one launch, and the cause said
    assert_failed_safely(env, result, error, words, launches)


def test_a_drs_launch_step_retried_after_it_launched_adopts_its_own_job(env: LocalFailoverEnvironment) -> None:
    # Given LaunchRecovery starts the recovery and then times out (Lambda reports Sandbox.Timedout)
    env.aws.runtime.time_out_after_return(StateName.LAUNCH_RECOVERY, count=1)
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then the retry found this execution's job by its tag, started no second one, and the run succeeded
    assert result.status == "SUCCEEDED", result.cause
    assert env.provider.launches_accepted == 1
