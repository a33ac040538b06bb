"""ChooseRecoveryPoint and LaunchRecovery with DRS: recovery points, jobs of at most 200 servers
tagged with the execution, and at most one launch of each server per execution."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from dr_autopilot.errors import JobAlreadyRunning, MachinesChanged, NoPointInTime, QuotaExceeded
from dr_autopilot.models import Mode
from dr_autopilot.providers.drs.provider import BATCH_TAG, EXECUTION_TAG, job_ids

from local.drs.scenario import QuotaSpec, load_scenario
from tests.drs_provider.conftest import EXECUTION, OTHER_EXECUTION, Site, SiteFactory, drs_config

ALL = drs_config(machines="all", webserverMachine="app-server-0001")


def participants(site: Site, job_id: str) -> list[str]:
    return [s["sourceServerID"] for i in job_ids(job_id) for s in site.job(i)["participatingServers"]]


# ------------------------------------------------------------------------------ recovery point
def test_latest_asks_nothing_per_server(site: Site) -> None:
    # When the latest recovery point is chosen
    point = site.provider.resolve_recovery_point(None)
    # Then it is "latest" for both servers, from the one listing alone
    assert (point.requested, point.machine_count) == ("latest", 2)
    assert site.calls("DescribeRecoverySnapshots") == 0


def test_a_timestamp_chooses_each_servers_newest_snapshot_at_or_before_it(site: Site) -> None:
    # Given a moment 25 minutes ago (snapshots are taken every 10 minutes)
    requested = site.emulator.clock.now() - timedelta(minutes=25)
    # When the recovery point is chosen
    point = site.provider.resolve_recovery_point(requested)
    # Then each server's newest snapshot at or before it is chosen, within one snapshot interval
    assert point.machine_count == 2 and point.newest_chosen is not None and point.oldest_chosen is not None
    assert requested - timedelta(minutes=10) < point.oldest_chosen <= point.newest_chosen <= requested
    assert site.calls("DescribeRecoverySnapshots") == 2


def test_a_moment_before_any_snapshot_names_the_machines_without_one(site: Site) -> None:
    # Given a moment before replication started (45 days ago)
    requested = site.emulator.clock.now() - timedelta(days=60)
    # When the recovery point is chosen, Then both machines are named
    with pytest.raises(NoPointInTime, match="2 machines DBServer, WebServer: no recovery point at or before"):
        site.provider.resolve_recovery_point(requested)


def test_servers_that_never_synced_have_no_point_in_time(start_site: SiteFactory) -> None:
    # Given servers still in their initial sync
    config = drs_config(machines=["initial-sync", "continuous"], webserverMachine="continuous")
    site = start_site("mixed-states", config=config)
    # When a recovery point of now is chosen, Then the server without one is named
    with pytest.raises(NoPointInTime, match=r"^machine initial-sync: "):
        site.provider.resolve_recovery_point(site.emulator.clock.now())


# -------------------------------------------------------------------------------------- launch
def test_a_recovery_is_one_tagged_job_for_both_servers(site: Site) -> None:
    # Given an execution that checked replication
    checked_at = site.provider.assess_replication().checked_at
    # When it launches from the latest point
    result = site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    # Then one RECOVERY job holds both servers, tagged with the execution and its batch
    job = site.job(result.job_id)
    assert (result.launch_type, result.machine_count, result.adopted) == ("RECOVERY", 2, False)
    assert (job["initiatedBy"], job["tags"]) == ("START_RECOVERY", {EXECUTION_TAG: EXECUTION, BATCH_TAG: "1"})
    assert result.launched_at == site.emulator.clock.now()  # the job's creationDateTime (the clock stands still)
    assert sorted(participants(site, result.job_id)) == sorted(site.server_ids().values())


def test_a_drill_launches_drill_instances_from_the_chosen_point(site: Site) -> None:
    # Given a drill of the state 25 minutes ago
    checked_at = site.provider.assess_replication().checked_at
    requested = checked_at - timedelta(minutes=25)
    # When it launches and the job completes
    result = site.provider.launch(Mode.DRILL, requested, not_before=checked_at, execution_id=EXECUTION)
    site.advance(240)
    # Then it is a DRILL whose instances hold data from at or before the requested moment
    assert (result.launch_type, site.job(result.job_id)["initiatedBy"]) == ("DRILL", "START_DRILL")
    instances = site.drs.describe_recovery_instances()["items"]
    assert len(instances) == 2 and all(i["isDrill"] for i in instances)
    assert all(i["pointInTimeSnapshotDateTime"] <= requested.strftime("%Y-%m-%dT%H:%M:%S.%fZ") for i in instances)


def test_a_large_estate_launches_in_tagged_jobs_of_at_most_200_and_a_retry_adopts_them(
    start_site: SiteFactory,
) -> None:
    # Given 450 source servers
    site = start_site("large", config=ALL, machine_count=450)
    checked_at = site.provider.assess_replication().checked_at
    # When the launch runs, then runs again (a retried step)
    first = site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    again = site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    # Then three jobs of at most 200 servers hold every server once, each tagged with the execution
    jobs = [site.job(job_id) for job_id in job_ids(first.job_id)]
    assert [len(job["participatingServers"]) for job in jobs] == [200, 200, 50]
    assert [job["tags"] for job in jobs] == [{EXECUTION_TAG: EXECUTION, BATCH_TAG: str(n)} for n in (1, 2, 3)]
    assert len(set(participants(site, first.job_id))) == first.machine_count == 450
    # And the retry adopted the same jobs without a second StartRecovery
    assert (again.job_id, again.adopted, again.machine_count) == (first.job_id, True, 450)
    assert site.calls("StartRecovery") == 3 and site.emulator.account.jobs.recoveries_accepted == 3


def test_a_retry_after_a_partial_launch_starts_only_the_servers_not_yet_launched(start_site: SiteFactory) -> None:
    # Given an earlier attempt that started its first batch of 200 servers, then died
    site = start_site("large", config=ALL, machine_count=450)
    checked_at = site.provider.assess_replication().checked_at
    ids = list(site.server_ids().values())
    site.drs.start_recovery(
        isDrill=False,
        sourceServers=[{"sourceServerID": i} for i in ids[:200]],
        tags={EXECUTION_TAG: EXECUTION, BATCH_TAG: "1"},
    )
    # When the step runs again
    result = site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    # Then it keeps that job and launches the other 250 servers in two more, each server once
    launched = participants(site, result.job_id)
    assert len(job_ids(result.job_id)) == 3 and not result.adopted
    assert len(launched) == len(set(launched)) == 450
    assert site.emulator.account.jobs.recoveries_accepted == 3


def test_a_job_started_by_someone_else_for_these_servers_is_reported_as_already_running(site: Site) -> None:
    # Given an operator launched the servers by hand before this execution
    site.drs.start_recovery(isDrill=False, sourceServers=[{"sourceServerID": i} for i in site.server_ids().values()])
    checked_at = site.provider.assess_replication().checked_at
    # When this execution launches, Then DRS's conflict is JobAlreadyRunning, not retried
    with pytest.raises(JobAlreadyRunning, match="ConflictException"):
        site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    # And only the operator's launch was accepted
    assert site.emulator.account.jobs.recoveries_accepted == 1 and site.calls("StartRecovery") == 2


class LostFirstAnswer:
    """The boto3 client, except that StartRecovery's first answer is lost and botocore's retry
    sends it again (what its standard mode does after a dropped connection)."""

    def __init__(self, real: Any) -> None:
        self.real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def start_recovery(self, **request: Any) -> Any:
        self.real.start_recovery(**request)
        return self.real.start_recovery(**request)


def test_a_conflict_with_this_executions_own_job_adopts_it(start_site: SiteFactory) -> None:
    # Given StartRecovery was accepted but its answer lost, and the repeated request conflicts
    site = start_site(wrap=LostFirstAnswer)
    checked_at = site.provider.assess_replication().checked_at
    # When the execution launches
    result = site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    # Then the job the first request started is the launch; nothing was launched twice
    assert site.job(result.job_id)["tags"][EXECUTION_TAG] == EXECUTION
    assert site.emulator.account.jobs.recoveries_accepted == 1


def test_a_launch_beyond_the_accounts_quota_is_refused_by_name(start_site: SiteFactory) -> None:
    # Given 600 servers and an account that holds at most 500 in active jobs (DRS's default quota)
    estate = load_scenario("large", 600).model_copy(update={"quotas": QuotaSpec()})
    site = start_site(estate, config=ALL)  # type: ignore[arg-type]
    checked_at = site.provider.assess_replication().checked_at
    # When they are launched, Then the third job is refused by name (the first two run)
    with pytest.raises(QuotaExceeded, match="SourceServersInAllActiveJobs"):
        site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    assert site.emulator.account.jobs.recoveries_accepted == 2
    # And a report finds the jobs that did start
    started = site.provider.launch_of_this_execution(Mode.RECOVERY, checked_at, EXECUTION)
    assert started is not None and started.machine_count == 400


def test_a_report_finds_this_executions_launch_and_no_other(site: Site) -> None:
    # Given nothing launched yet by this execution
    checked_at = site.provider.assess_replication().checked_at
    assert site.provider.launch_of_this_execution(Mode.RECOVERY, checked_at, EXECUTION) is None
    # When it launches
    result = site.provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id=EXECUTION)
    # Then a report finds that launch, and another execution finds none of it
    found = site.provider.launch_of_this_execution(Mode.RECOVERY, checked_at, EXECUTION)
    assert found is not None and (found.job_id, found.adopted) == (result.job_id, True)
    assert site.provider.launch_of_this_execution(Mode.RECOVERY, checked_at, OTHER_EXECUTION) is None


def test_a_server_tagged_in_between_the_check_and_the_launch_is_not_launched(start_site: SiteFactory) -> None:
    # Given the servers to recover are chosen by tag (Role=webserver): the check judged WebServer alone
    site = start_site(config=drs_config(machines="all", drs={"tags": {"Role": "webserver"}}))
    report = site.provider.assess_replication()
    assert report.total == 1 and report.machines_digest
    # When DBServer is tagged Role=webserver before the launch (its replication never checked)
    db = site.server_ids()["DBServer"]
    arn = site.drs.describe_source_servers(filters={"sourceServerIDs": [db]})["items"][0]["arn"]
    site.drs.tag_resource(resourceArn=arn, tags={"Role": "webserver"})
    # Then the launch is refused by name, and nothing was launched
    with pytest.raises(MachinesChanged, match="not the ones the replication check judged"):
        site.provider.launch(
            Mode.RECOVERY,
            None,
            not_before=report.checked_at,
            execution_id=EXECUTION,
            checked_machines=report.machines_digest,
        )
    assert site.emulator.account.jobs.recoveries_accepted == 0
    # And with the set the check judged, the launch goes ahead
    site.drs.untag_resource(resourceArn=arn, tagKeys=["Role"])
    result = site.provider.launch(
        Mode.RECOVERY,
        None,
        not_before=report.checked_at,
        execution_id=EXECUTION,
        checked_machines=report.machines_digest,
    )
    assert result.machine_count == 1


def test_a_retry_after_the_checked_servers_launched_adopts_them_though_the_set_changed(
    start_site: SiteFactory,
) -> None:
    # Given WebServer alone was checked and launched (Role=webserver), then DBServer was tagged in
    site = start_site(config=drs_config(machines="all", drs={"tags": {"Role": "webserver"}}))
    report = site.provider.assess_replication()
    first = site.provider.launch(
        Mode.RECOVERY,
        None,
        not_before=report.checked_at,
        execution_id=EXECUTION,
        checked_machines=report.machines_digest,
    )
    db = site.server_ids()["DBServer"]
    arn = site.drs.describe_source_servers(filters={"sourceServerIDs": [db]})["items"][0]["arn"]
    site.drs.tag_resource(resourceArn=arn, tags={"Role": "webserver"})
    # When the launch step is retried (its first answer lost)
    again = site.provider.launch(
        Mode.RECOVERY,
        None,
        not_before=report.checked_at,
        execution_id=EXECUTION,
        checked_machines=report.machines_digest,
    )
    # Then it adopts the job that launched every checked server, and launches nothing more
    assert again.adopted and again.job_id == first.job_id
    assert site.emulator.account.jobs.recoveries_accepted == 1
