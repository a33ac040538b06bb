"""PollJob and FindTargets with DRS: status and log lines over all of the execution's jobs, and
the recovered webserver's address, only from an instance this execution launched."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from dr_autopilot.config import JobConfig
from dr_autopilot.errors import JobFailed, LaunchIncomplete, MachineNotFound, TargetNotFound, TargetNotFromThisJob
from dr_autopilot.logic.poll_job import poll_job
from dr_autopilot.models import FailoverRequest, LaunchResult, Mode, ProviderJobStatus, WorkflowState
from dr_autopilot.ports import JobSnapshot
from dr_autopilot.providers.drs.client import DrsClient
from dr_autopilot.providers.drs.provider import DrsProvider

from local.drs import FaultSpec
from local.drs.scenario import ErrorType
from tests.drs_provider.conftest import EXECUTION, OTHER_EXECUTION, Site, SiteFactory, drs_config


def launch(site: Site, mode: Mode = Mode.RECOVERY, execution_id: str = EXECUTION) -> LaunchResult:
    checked_at = site.provider.assess_replication().checked_at
    return site.provider.launch(mode, None, not_before=checked_at, execution_id=execution_id)


def text(lines: list[str]) -> list[str]:
    """The lines without their time of day."""
    return [line.split(" ", 1)[1] for line in lines]


# --------------------------------------------------------------------------------------- job
def test_a_job_runs_then_completes_with_short_log_lines_shown_once(site: Site) -> None:
    # Given a recovery launched 50 s ago (its snapshots are taken, its conversion not started)
    result = launch(site)
    site.advance(50)
    # When the job is looked at
    running = site.provider.job_snapshot(result.job_id, seen=0)
    # Then it runs, its log so far reads as short lines, and it began when it was launched
    assert running.status is ProviderJobStatus.RUNNING and running.converters_finished_at is None
    assert text(running.new_lines) == [
        "JOB_START",
        "SNAPSHOT_START DBServer",
        "SNAPSHOT_START WebServer",
        "SNAPSHOT_END DBServer",
        "SNAPSHOT_END WebServer",
    ]
    assert (running.created_at, running.provider_now) == (result.launched_at, site.emulator.clock.now())
    # When three more minutes pass and it is looked at again after the lines already seen
    site.advance(190)
    done = site.provider.job_snapshot(result.job_id, seen=running.log_total)
    # Then it is COMPLETED, with only the new lines, and the converters' end is known
    assert done.status is ProviderJobStatus.COMPLETED and done.log_total == 12
    assert text(done.new_lines)[0] == "CONVERSION_START DBServer" and text(done.new_lines)[-1] == "JOB_END"
    assert done.converters_finished_at is not None and done.converters_finished_at > result.launched_at


def test_a_job_whose_webserver_failed_to_launch_fails_the_poll_naming_it(start_site: SiteFactory) -> None:
    # Given the job-fails scenario: the webserver's instance cannot launch, the job still COMPLETES
    site = start_site("job-fails")
    result = launch(site)
    site.advance(240)
    assert site.job(result.job_id)["status"] == "COMPLETED"
    # When the job is looked at
    snapshot = site.provider.job_snapshot(result.job_id, seen=0)
    # Then it is FAILED, and the last line names the server and DRS's error
    web = site.server_ids()["WebServer"]
    assert snapshot.status is ProviderJobStatus.FAILED
    assert snapshot.new_lines[-1] == (
        f"Launch FAILED for WebServer ({web}): "
        "Failed to launch recovery instance: InsufficientInstanceCapacity for t3.large in eu-west-1a"
    )
    assert any(
        line.endswith(
            "LAUNCH_FAILED WebServer: Failed to launch recovery instance: "
            "InsufficientInstanceCapacity for t3.large in eu-west-1a"
        )
        for line in snapshot.new_lines
    )
    # And PollJob raises JobFailed with that line
    state = WorkflowState(
        request=FailoverRequest(
            mode=Mode.RECOVERY,
            force=False,
            dry_run=False,
            requested_by="test",
            reason="",
            trigger="console",
            execution_id=EXECUTION,
            execution_name="run-1",
            started_at=datetime.now(UTC),
        ),
        launch=result,
    )
    with pytest.raises(JobFailed, match=f"Launch FAILED for WebServer \\({web}\\)"):
        poll_job(state, site.provider, JobConfig())


def test_a_stuck_job_keeps_running(start_site: SiteFactory) -> None:
    # Given a job that never ends
    site = start_site("stuck-job")
    result = launch(site)
    # When an hour passes, Then it is still running (the workflow's timeout decides)
    site.advance(3600)
    assert site.provider.job_snapshot(result.job_id, seen=0).status is ProviderJobStatus.RUNNING


def test_the_jobs_of_a_large_launch_complete_together_and_their_logs_are_merged(start_site: SiteFactory) -> None:
    # Given 450 servers launched in three jobs
    config = drs_config(machines="all", webserverMachine="app-server-0001")
    site = start_site("large", config=config, machine_count=450)
    result = launch(site)
    # When the jobs are done
    site.advance(900)  # a large job lasts 15 emulated minutes
    snapshot = site.provider.job_snapshot(result.job_id, seen=0)
    # Then the launch is COMPLETED, its log covers every job, and the lines shown are bounded
    assert snapshot.status is ProviderJobStatus.COMPLETED
    assert snapshot.log_total == 3 * 2 + 450 * 5  # JOB_START, JOB_END per job; 5 events per server
    assert len(snapshot.new_lines) == 20 and text(snapshot.new_lines)[-1] == "JOB_END (job 3 of 3)"


LARGE = drs_config(machines="all", webserverMachine="app-server-0001")


def half_read_job(start_site: SiteFactory) -> tuple[Site, LaunchResult, JobSnapshot]:
    """One job of 200 servers looked at halfway, when its log is already several pages long
    (200 items a page), then run to its end."""
    site = start_site("large", config=LARGE, machine_count=200)
    result = launch(site)
    site.advance(450)
    first = site.provider.job_snapshot(result.job_id, seen=0)
    assert first.status is ProviderJobStatus.RUNNING and first.log_total > 600
    site.advance(450)
    return site, result, first


def test_a_long_job_log_is_read_again_only_after_its_last_full_page(start_site: SiteFactory) -> None:
    # Given a job whose log was read halfway, When it is looked at again after it completed
    site, result, first = half_read_job(start_site)
    before = site.calls("DescribeJobLogItems")
    again = site.provider.job_snapshot(result.job_id, seen=first.log_total)
    # Then the read resumed after the full pages already read: only the pages after them
    full_pages_read = first.log_total // 200
    assert site.calls("DescribeJobLogItems") - before == math.ceil((again.log_total - full_pages_read * 200) / 200)
    assert site.calls("DescribeJobLogItems") - before < math.ceil(again.log_total / 200)
    # And it says exactly what a read from the start says
    fresh = DrsProvider(DrsClient(site.drs), LARGE, site.addresses, now=site.emulator.clock.now)
    whole = fresh.job_snapshot(result.job_id, seen=first.log_total)
    assert (again.status, again.log_total, again.new_lines) == (whole.status, whole.log_total, whole.new_lines)
    assert again.status is ProviderJobStatus.COMPLETED and again.log_total == 2 + 200 * 5


def test_a_resumed_log_read_whose_token_is_refused_reads_from_the_start(start_site: SiteFactory) -> None:
    # Given a job whose log was read halfway
    site, result, first = half_read_job(start_site)
    # When DRS refuses the kept pagination token (ValidationException) on the next read
    site.emulator.faults.arm(FaultSpec(operation="DescribeJobLogItems", error_type=ErrorType.VALIDATION))
    again = site.provider.job_snapshot(result.job_id, seen=first.log_total)
    # Then the log is read again from the start, and nothing is missing
    assert again.status is ProviderJobStatus.COMPLETED and again.log_total == 2 + 200 * 5


# ------------------------------------------------------------------------------------ target
def test_the_recovered_webserver_is_found_by_its_ec2_address(site: Site) -> None:
    # Given a completed recovery
    result = launch(site)
    site.advance(240)
    # When the target is looked for
    target = site.provider.find_target(result, want_dns_name=False)
    named = site.provider.find_target(result, want_dns_name=True)
    # Then it is the webserver's recovery instance, at its public IP (or public DNS name)
    instance = site.job(result.job_id)["participatingServers"][1]["recoveryInstanceID"]
    public_ip = site.addresses.fleet.instances[instance][1]
    assert (target.machine_name, target.instance_id, target.address, target.address_source) == (
        "WebServer",
        instance,
        public_ip,
        "ec2",
    )
    assert named.address.startswith("ec2-127-1-")


def test_a_target_is_not_given_before_every_server_launched(site: Site) -> None:
    # Given a job still converting
    result = launch(site)
    site.advance(60)
    # When the target is looked for, Then the servers without an instance are named
    with pytest.raises(LaunchIncomplete, match="0 of 2 machines have a launched target; missing: DBServer, WebServer"):
        site.provider.find_target(result, want_dns_name=False)


def test_a_webserver_that_failed_to_launch_has_no_target(start_site: SiteFactory) -> None:
    # Given the webserver's launch failed
    site = start_site("job-fails")
    result = launch(site)
    site.advance(240)
    # When the target is looked for, Then the webserver is named
    with pytest.raises(LaunchIncomplete, match="1 of 2 machines have a launched target; missing: WebServer"):
        site.provider.find_target(result, want_dns_name=False)


def test_an_instance_another_executions_drill_put_in_place_is_refused(site: Site) -> None:
    # Given this execution's drill completed, then another execution's drill replaced its instances
    ours = launch(site, Mode.DRILL, EXECUTION)
    site.advance(240)
    theirs = launch(site, Mode.DRILL, OTHER_EXECUTION)
    site.advance(240)
    # When this execution looks for its target
    # Then the webserver's current instance is refused: it is the other drill's
    with pytest.raises(TargetNotFromThisJob, match=f"launched by job {theirs.job_id}, a drill.*DNS was not changed"):
        site.provider.find_target(ours, want_dns_name=False)


def test_a_webserver_without_a_public_address_is_not_a_target(site: Site) -> None:
    # Given a completed recovery whose webserver instance has no public address in EC2
    result = launch(site)
    site.advance(240)
    site.job(result.job_id)  # DRS has launched the instances by the time anyone looks
    site.addresses.hidden.update(site.addresses.fleet.instances)
    # When the target is looked for, Then the instance is named
    with pytest.raises(TargetNotFound, match=r"the recovered WebServer \(instance i-\w+\) has no public IP in EC2"):
        site.provider.find_target(result, want_dns_name=False)


def test_the_webserver_the_launch_resolved_is_asked_for_alone(start_site: SiteFactory) -> None:
    # Given a completed recovery of 1,001 servers (a listing of two pages)
    config = drs_config(machines="all", webserverMachine="app-server-0001")
    site = start_site("large", config=config, machine_count=1001)
    result = launch(site)
    site.advance(900)  # a large job lasts 15 emulated minutes
    # When the target is looked for
    before = site.calls("DescribeSourceServers")
    target = site.provider.find_target(result, want_dns_name=False)
    # Then one filtered DescribeSourceServers found the webserver: the 1,001 servers were not listed
    assert result.webserver_id and target.machine_name == "app-server-0001"
    assert site.calls("DescribeSourceServers") - before == 1


def test_a_webserver_renamed_after_the_launch_is_refused_by_name(site: Site) -> None:
    # Given a completed recovery, after which the webserver's source server reports another hostname
    result = launch(site)
    site.advance(240)
    assert result.webserver_id is not None
    server = site.emulator.account.inventory.servers[result.webserver_id]
    server.spec = server.spec.model_copy(update={"hostname": "web-renamed"})
    site.emulator.account.renderer.prepare(site.emulator.account.inventory.order)
    # When the target is looked for, Then the configured name is missing: no address is given
    with pytest.raises(MachineNotFound, match="WebServer"):
        site.provider.find_target(result, want_dns_name=False)
