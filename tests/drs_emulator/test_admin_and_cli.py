"""The `/_emulator` admin API, the scenarios as data and `python -m local.drs`."""

from __future__ import annotations

import subprocess
import sys

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from local.drs import Scenario, ScenarioError, available_scenarios, load_scenario
from local.drs.__main__ import main
from tests.drs_emulator.conftest import Drs, DrsFactory, connect


def test_faults_armed_through_the_admin_api_spoil_the_next_calls(drs: Drs) -> None:
    admin = drs.emulator.admin_url
    # When a throttle for two DescribeJobs calls is armed over HTTP
    armed = requests.post(
        f"{admin}/faults",
        json={"operation": "DescribeJobs", "errorType": "ThrottlingException", "count": 2, "retryAfterSeconds": 4},
        timeout=5,
    )
    assert armed.status_code == 201
    # Then the next two calls are throttled with Retry-After 4 and the third gets through
    for _ in range(2):
        with pytest.raises(drs.client.exceptions.ThrottlingException) as raised:
            drs.client.describe_jobs()
        assert raised.value.response["retryAfterSeconds"] == "4"
    assert drs.client.describe_jobs()["items"] == []
    # And the counters say so
    assert requests.get(f"{admin}/info", timeout=5).json()["calls"]["DescribeJobs"] == 3


def test_a_fault_without_an_effect_is_refused(drs: Drs) -> None:
    answer = requests.post(f"{drs.emulator.admin_url}/faults", json={"operation": "DescribeJobs"}, timeout=5)
    assert answer.status_code == 400 and "errorType" in answer.json()["message"]


def test_the_admin_clock_completes_a_job_and_reset_loads_another_scenario(start_drs: DrsFactory) -> None:
    # Given an emulator on a real-time clock and a job just started
    emulator = start_drs("two-tier", clock=None, time_scale=1.0)
    drs = connect(emulator)
    job = drs.client.start_recovery(sourceServers=[{"sourceServerID": drs.server_ids()["WebServer"]}])["job"]
    # When the clock is moved four emulated minutes through the admin API
    requests.post(f"{emulator.admin_url}/clock/advance", json={"seconds": 240}, timeout=5)
    # Then the job has completed
    assert drs.client.describe_jobs()["items"][0]["status"] == "COMPLETED"
    assert job["jobID"] == drs.client.describe_jobs()["items"][0]["jobID"]
    # When another scenario is loaded, Then the account is that scenario's, with the same landing port
    port = emulator.landing_port
    info = requests.post(f"{emulator.admin_url}/reset", json={"scenario": "mixed-states"}, timeout=5).json()
    assert (info["scenario"], info["sourceServers"], info["jobs"], info["landingPort"]) == ("mixed-states", 10, 0, port)
    assert requests.post(f"{emulator.admin_url}/reset", json={"scenario": "nope"}, timeout=5).status_code == 400


def test_a_client_with_bounded_retries_recovers_through_the_flaky_api(
    start_drs: DrsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the flaky-api scenario and a client with botocore's standard retries (waits skipped)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.0)
    drs = connect(start_drs("flaky-api"), retries={"mode": "standard", "total_max_attempts": 4})
    # When it runs a whole recovery
    ids = drs.server_ids()
    drs.client.describe_recovery_snapshots(sourceServerID=ids["WebServer"])
    job = drs.client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids.values()])["job"]
    drs.clock.advance(240)
    status = drs.client.describe_jobs(filters={"jobIDs": [job["jobID"]]})["items"][0]["status"]
    log = drs.client.describe_job_log_items(jobID=job["jobID"])["items"]
    instances = drs.client.describe_recovery_instances()["items"]
    # Then it got through every fault, each of which was met
    assert (status, log[-1]["event"], len(instances)) == ("COMPLETED", "JOB_END", 2)
    calls = drs.emulator.info()["calls"]
    assert calls["DescribeSourceServers"] == 3 and calls["DescribeJobs"] == 3 and calls["StartRecovery"] == 2
    assert drs.checker.errors_seen == {"ThrottlingException", "InternalServerException"}


@pytest.mark.parametrize("name", available_scenarios())
def test_every_bundled_scenario_is_valid_data(name: str) -> None:
    scenario = load_scenario(name)
    assert isinstance(scenario, Scenario) and scenario.description


def test_machine_count_resizes_only_a_generated_scenario() -> None:
    assert len(load_scenario("large", machine_count=7).all_servers()) == 7
    with pytest.raises(ScenarioError):
        load_scenario("two-tier", machine_count=7)
    assert main(["--scenario", "two-tier", "--machine-count", "7", "--port", "0"]) == 2


def test_the_command_line_serves_drs_and_prints_the_endpoint_and_an_example() -> None:
    # When `python -m local.drs` is started on a free port
    process = subprocess.Popen(  # noqa: S603 - a fixed command line: this interpreter and the emulator
        [sys.executable, "-m", "local.drs", "--port", "0", "--time-scale", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        endpoint = lines[1].split()[1]
        # Then it prints the endpoint and an AWS CLI example, and a boto3 client works against it
        assert "aws drs describe-source-servers --endpoint-url " + endpoint in lines[2]
        client = boto3.client(
            "drs",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="any",
            aws_secret_access_key="any",
            config=Config(retries={"total_max_attempts": 1}),
        )
        assert len(client.describe_source_servers()["items"]) == 2
    finally:
        process.terminate()
        process.wait(timeout=10)
