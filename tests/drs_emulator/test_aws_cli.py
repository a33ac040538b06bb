"""The AWS CLI (`aws drs`, awscli on the pinned botocore) against the local DRS: a drill, a
recovery and a clean-up, a second launch refused with 409, an unknown server with 404 and a
throttle the CLI retries, all over real HTTP, as an operator types them."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from awscli.clidriver import create_clidriver

from local.drs import DrsEmulator, FaultSpec
from local.drs.scenario import ErrorType
from tests.drs_emulator.conftest import DrsFactory


@dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


class AwsCli:
    """`aws drs ...` as an operator types it, aimed at the emulator with any credentials. The
    CLI's own driver runs in this process (a subprocess per command would cost a second of
    interpreter and botocore start-up each); its arguments, output and exit code are the CLI's."""

    def __init__(self, emulator: DrsEmulator, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.emulator = emulator
        monkeypatch.setenv("HOME", str(home))  # no operator's ~/.aws is read
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "emulated")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "emulated")
        monkeypatch.setenv("AWS_DEFAULT_REGION", emulator.arns.region)
        self.driver = create_clidriver()

    def run(self, *arguments: str) -> Completed:
        command = ["drs", *arguments, "--endpoint-url", self.emulator.base_url, "--output", "json"]
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            returncode = self.driver.main(command)
        return Completed(returncode, stdout.getvalue(), stderr.getvalue())

    def __call__(self, *arguments: str) -> Any:
        done = self.run(*arguments)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None


@pytest.fixture
def aws(start_drs: DrsFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsCli:
    return AwsCli(start_drs(), tmp_path, monkeypatch)


def servers(aws: AwsCli) -> dict[str, str]:
    """Source server ID by hostname, as `aws drs describe-source-servers` lists them."""
    items = aws("describe-source-servers")["items"]
    return {item["sourceProperties"]["identificationHints"]["hostname"]: item["sourceServerID"] for item in items}


def run_job(aws: AwsCli, *start: str) -> dict[str, Any]:
    """Start a job with the CLI, let four emulated minutes pass and describe it."""
    job_id = aws(*start)["job"]["jobID"]
    aws.emulator.clock.advance(240)
    job: dict[str, Any] = aws("describe-jobs", "--filters", f"jobIDs={job_id}")["items"][0]
    return job


def test_a_drill_a_recovery_and_a_clean_up_with_the_aws_cli(aws: AwsCli) -> None:
    ids = servers(aws)
    assert sorted(ids) == ["DBServer", "WebServer"]
    every_server = ["--source-servers", *(f"sourceServerID={one}" for one in ids.values())]
    # When on-call runs a drill with the CLI
    drill = run_job(aws, "start-recovery", "--is-drill", *every_server)
    # Then it completes with both servers launched, and its log reads as DRS's
    assert (drill["status"], drill["initiatedBy"]) == ("COMPLETED", "START_DRILL")
    assert {server["launchStatus"] for server in drill["participatingServers"]} == {"LAUNCHED"}
    events = [item["event"] for item in aws("describe-job-log-items", "--job-id", drill["jobID"])["items"]]
    assert events[0] == "JOB_START" and events[-1] == "JOB_END" and "LAUNCH_START" in events
    # When a recovery follows
    recovery = run_job(aws, "start-recovery", *every_server)
    # Then it completes and its instances replace the drill's
    assert (recovery["status"], recovery["initiatedBy"]) == ("COMPLETED", "START_RECOVERY")
    instances = aws("describe-recovery-instances")["items"]
    assert {(i["jobID"], i["isDrill"]) for i in instances} == {(recovery["jobID"], False)}
    # When they are cleaned up
    ids_to_terminate = [i["recoveryInstanceID"] for i in instances]
    cleanup = run_job(aws, "terminate-recovery-instances", "--recovery-instance-ids", *ids_to_terminate)
    # Then the termination job completed and no recovery instance is left
    assert (cleanup["type"], cleanup["status"]) == ("TERMINATE", "COMPLETED")
    assert aws("describe-recovery-instances")["items"] == []


def test_the_cli_shows_drs_errors_as_drs_names_them(aws: AwsCli) -> None:
    web = servers(aws)["WebServer"]
    aws("start-recovery", "--source-servers", f"sourceServerID={web}")
    # When the same server is launched again while its job runs, Then DRS's 409 is shown
    second = aws.run("start-recovery", "--source-servers", f"sourceServerID={web}")
    assert second.returncode != 0 and "ConflictException" in second.stderr and web in second.stderr
    # When an unknown server is asked about, Then 404 ResourceNotFoundException
    unknown = aws.run("describe-recovery-snapshots", "--source-server-id", "s-00000000000000000")
    assert unknown.returncode != 0 and "ResourceNotFoundException" in unknown.stderr


def test_the_cli_retries_a_throttled_call_and_gets_its_answer(aws: AwsCli) -> None:
    # Given DRS throttles the next listing once
    aws.emulator.faults.arm(FaultSpec(operation="DescribeSourceServers", error_type=ErrorType.THROTTLING))
    # When the CLI lists the source servers, Then it retried and got them
    assert sorted(servers(aws)) == ["DBServer", "WebServer"]
    assert aws.emulator.info()["calls"]["DescribeSourceServers"] == 2
