"""Recovery and termination jobs on the emulated clock: statuses, per-server launches, logs, tags."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import requests

from local.drs import InMemoryFleet
from local.drs.fleet import InstanceRequest
from tests.drs_emulator.conftest import Drs, DrsFactory, connect


def start(drs: Drs, hostnames: list[str], is_drill: bool = False, **options: Any) -> dict[str, Any]:
    ids = drs.server_ids()
    servers = [{"sourceServerID": ids[hostname]} for hostname in hostnames]
    job: dict[str, Any] = drs.client.start_recovery(isDrill=is_drill, sourceServers=servers, **options)["job"]
    return job


def job_now(drs: Drs, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = drs.client.describe_jobs(filters={"jobIDs": [job_id]})["items"][0]
    return job


def events(drs: Drs, job_id: str) -> list[str]:
    pages = drs.client.get_paginator("describe_job_log_items").paginate(jobID=job_id)
    return [item["event"] for page in pages for item in page["items"]]


def statuses(job: dict[str, Any]) -> list[str]:
    return [server["launchStatus"] for server in job["participatingServers"]]


def test_recovery_runs_pending_started_completed_over_four_emulated_minutes(drs: Drs) -> None:
    # Given a recovery of both two-tier servers
    job = start(drs, ["DBServer", "WebServer"], tags={"ExecutionId": "exec-42"})
    assert (job["status"], job["initiatedBy"], job["type"]) == ("PENDING", "START_RECOVERY", "LAUNCH")
    assert statuses(job) == ["PENDING", "PENDING"]
    # When the clock moves into the job, Then it is STARTED with both servers in progress
    drs.clock.advance(60)
    running = job_now(drs, job["jobID"])
    assert (running["status"], statuses(running)) == ("STARTED", ["IN_PROGRESS", "IN_PROGRESS"])
    assert "endDateTime" not in running
    # When four emulated minutes have passed, Then it is COMPLETED and both servers LAUNCHED
    drs.clock.advance(180)
    done = job_now(drs, job["jobID"])
    assert (done["status"], statuses(done)) == ("COMPLETED", ["LAUNCHED", "LAUNCHED"])
    assert done["endDateTime"] > done["creationDateTime"]
    assert all(server["recoveryInstanceID"].startswith("i-") for server in done["participatingServers"])
    # And its log tells the story in DRS's events
    assert events(drs, job["jobID"]) == [
        "JOB_START",
        "SNAPSHOT_START",
        "SNAPSHOT_START",
        "SNAPSHOT_END",
        "SNAPSHOT_END",
        "CONVERSION_START",
        "CONVERSION_START",
        "CONVERSION_END",
        "CONVERSION_END",
        "LAUNCH_START",
        "LAUNCH_START",
        "JOB_END",
    ]


def test_launched_servers_have_recovery_instances_linked_both_ways(drs: Drs) -> None:
    # Given a completed recovery
    job = start(drs, ["DBServer", "WebServer"])
    drs.clock.advance(240)
    # When recovery instances and servers are described
    instances = drs.client.describe_recovery_instances()["items"]
    servers = {s["sourceServerID"]: s for s in drs.client.describe_source_servers()["items"]}
    # Then each server's recovery instance runs, from this job, at the snapshot taken when it started
    assert len(instances) == 2
    for instance in instances:
        server = servers[instance["sourceServerID"]]
        assert instance["ec2InstanceID"] == instance["recoveryInstanceID"] == server["recoveryInstanceId"]
        assert (instance["ec2InstanceState"], instance["isDrill"], instance["jobID"]) == (
            "RUNNING",
            False,
            job["jobID"],
        )
        assert instance["pointInTimeSnapshotDateTime"] < job["creationDateTime"]
        assert server["lastLaunchResult"] == "SUCCEEDED"
        assert server["lifeCycle"]["lastLaunch"] == {
            "initiated": {"apiCallDateTime": job["creationDateTime"], "jobID": job["jobID"], "type": "RECOVERY"},
            "status": "LAUNCHED",
        }
    # And the log names each target instance where its launch starts
    items = drs.client.describe_job_log_items(jobID=job["jobID"])["items"]
    targets = {i["eventData"]["targetInstanceID"] for i in items if i["event"] == "LAUNCH_START"}
    assert targets == {instance["ec2InstanceID"] for instance in instances}


def test_recovered_webserver_serves_the_landing_page_on_its_public_address(drs: Drs) -> None:
    start(drs, ["WebServer"])
    drs.clock.advance(240)
    # When the recovered webserver's addresses are read
    instance = drs.client.describe_recovery_instances()["items"][0]
    private_ip, public_ip = instance["recoveryInstanceProperties"]["networkInterfaces"][0]["ips"]
    # Then its landing page answers on the public one
    page = requests.get(f"http://{public_ip}:{drs.emulator.landing_port}/", timeout=5)
    assert "Hello from the PHP webserver" in page.text
    assert private_ip.startswith("10.")


def test_a_failing_launch_leaves_the_job_completed_with_that_server_failed(start_drs: DrsFactory) -> None:
    # Given the job-fails scenario (the webserver's launch fails)
    drs = connect(start_drs("job-fails"))
    job = start(drs, ["DBServer", "WebServer"])
    # When the job has run its course
    drs.clock.advance(240)
    done = job_now(drs, job["jobID"])
    # Then the job is COMPLETED (DRS has no FAILED job), the webserver FAILED, the database LAUNCHED
    assert done["status"] == "COMPLETED"
    assert statuses(done) == ["LAUNCHED", "FAILED"]
    assert "recoveryInstanceID" not in done["participatingServers"][1]
    # And the log has LAUNCH_FAILED with the raw error for the webserver only
    items = drs.client.describe_job_log_items(jobID=job["jobID"])["items"]
    failed = [i for i in items if i["event"] == "LAUNCH_FAILED"]
    assert [i["eventData"]["sourceServerID"] for i in failed] == [done["participatingServers"][1]["sourceServerID"]]
    assert "InsufficientInstanceCapacity" in failed[0]["eventData"]["rawError"]
    # And only the database server has a recovery instance; the webserver's last launch FAILED
    assert len(drs.client.describe_recovery_instances()["items"]) == 1
    web = drs.client.describe_source_servers(
        filters={"sourceServerIDs": [done["participatingServers"][1]["sourceServerID"]]}
    )
    assert web["items"][0]["lastLaunchResult"] == "FAILED"


def test_a_stuck_job_stays_started_and_holds_its_servers(start_drs: DrsFactory) -> None:
    drs = connect(start_drs("stuck-job"))
    job = start(drs, ["WebServer"])
    # When an emulated hour passes
    drs.clock.advance(3600)
    # Then the job is still STARTED, converting, with no end
    still = job_now(drs, job["jobID"])
    assert (still["status"], statuses(still)) == ("STARTED", ["IN_PROGRESS"])
    assert events(drs, job["jobID"])[-1] == "CONVERSION_START"
    # And the server cannot be recovered by another job
    try:
        start(drs, ["WebServer"])
    except drs.client.exceptions.ConflictException:
        pass
    else:
        raise AssertionError("a second job was accepted for a server held by a stuck job")


def test_jobs_are_found_by_their_tags_and_date(drs: Drs) -> None:
    # Given three jobs, one tagged with the pipeline's execution id, created a minute apart
    start(drs, ["DBServer"], tags={"ExecutionId": "exec-1"})
    drs.clock.advance(300)
    mine = start(drs, ["WebServer"], tags={"ExecutionId": "exec-2"})
    drs.clock.advance(300)
    start(drs, ["DBServer"], is_drill=True)
    # When all jobs are paged through one at a time
    pages = drs.client.get_paginator("describe_jobs").paginate(PaginationConfig={"PageSize": 1})
    jobs = [job for page in pages for job in page["items"]]
    # Then the tagged one is found by its tag, and the drill says so
    assert [job["jobID"] for job in jobs if job["tags"].get("ExecutionId") == "exec-2"] == [mine["jobID"]]
    assert [job["initiatedBy"] for job in jobs] == ["START_RECOVERY", "START_RECOVERY", "START_DRILL"]
    # And a date filter keeps only the jobs created since
    since = drs.client.describe_jobs(filters={"fromDate": mine["creationDateTime"]})["items"]
    assert len(since) == 2 and since[0]["jobID"] == mine["jobID"]
    # And the tags are those of the job's ARN
    assert drs.client.list_tags_for_resource(resourceArn=mine["arn"])["tags"] == {"ExecutionId": "exec-2"}


def test_a_new_drill_replaces_the_previous_drill_instance(drs: Drs) -> None:
    # Given a completed drill of the webserver
    first = start(drs, ["WebServer"], is_drill=True)
    drs.clock.advance(240)
    old = drs.client.describe_recovery_instances()["items"][0]
    assert old["isDrill"] is True and old["jobID"] == first["jobID"]
    # When another drill of it completes
    second = start(drs, ["WebServer"], is_drill=True)
    drs.clock.advance(240)
    # Then its log cleaned up the old instance and only the new one remains
    assert events(drs, second["jobID"])[1:3] == ["CLEANUP_START", "CLEANUP_END"]
    instances = drs.client.describe_recovery_instances()["items"]
    assert [(i["jobID"], i["recoveryInstanceID"] != old["recoveryInstanceID"]) for i in instances] == [
        (second["jobID"], True)
    ]


def test_terminating_recovery_instances_is_a_job_after_which_they_are_gone(drs: Drs) -> None:
    # Given both servers recovered
    start(drs, ["DBServer", "WebServer"], is_drill=True)
    drs.clock.advance(240)
    instance_ids = [i["recoveryInstanceID"] for i in drs.client.describe_recovery_instances()["items"]]
    # When their termination is asked for
    job = drs.client.terminate_recovery_instances(recoveryInstanceIDs=instance_ids)["job"]
    assert (job["type"], job["initiatedBy"], job["status"]) == ("TERMINATE", "TERMINATE_RECOVERY_INSTANCES", "PENDING")
    # Then while it runs the instances shut down, and asking again conflicts
    drs.clock.advance(10)
    assert {i["ec2InstanceState"] for i in drs.client.describe_recovery_instances()["items"]} == {"SHUTTING-DOWN"}
    try:
        drs.client.terminate_recovery_instances(recoveryInstanceIDs=instance_ids[:1])
    except drs.client.exceptions.ConflictException:
        pass
    else:
        raise AssertionError("a second termination was accepted")
    # And once it completes they are gone, and the servers' last launch reads TERMINATED
    drs.clock.advance(60)
    assert job_now(drs, job["jobID"])["status"] == "COMPLETED"
    assert statuses(job_now(drs, job["jobID"])) == ["TERMINATED", "TERMINATED"]
    assert drs.client.describe_recovery_instances()["items"] == []
    servers = drs.client.describe_source_servers()["items"]
    assert {s["lifeCycle"]["lastLaunch"]["status"] for s in servers} == {"TERMINATED"}
    assert all("recoveryInstanceId" not in s for s in servers)


def test_recovery_from_a_chosen_snapshot_uses_it(drs: Drs) -> None:
    web = drs.server_ids()["WebServer"]
    snapshot = drs.client.describe_recovery_snapshots(sourceServerID=web, order="DESC")["items"][3]
    # When the webserver is recovered from an older snapshot
    job = drs.client.start_recovery(
        sourceServers=[{"sourceServerID": web, "recoverySnapshotID": snapshot["snapshotID"]}]
    )
    drs.clock.advance(240)
    # Then the job used that snapshot and the instance holds its moment
    assert "USING_PREVIOUS_SNAPSHOT" in events(drs, job["job"]["jobID"])
    instance = drs.client.describe_recovery_instances(filters={"sourceServerIDs": [web]})["items"][0]
    assert instance["pointInTimeSnapshotDateTime"] == snapshot["timestamp"]


def test_servers_without_fresh_data_use_their_last_snapshot_or_fail(start_drs: DrsFactory) -> None:
    # Given a stalled server (old snapshots, no new data) and one still in its initial sync (none)
    drs = connect(start_drs("mixed-states"))
    job = start(drs, ["stalled", "initial-sync"])
    # When the job has run
    drs.clock.advance(240)
    done = job_now(drs, job["jobID"])
    # Then the stalled server launched from its newest snapshot, and the unsynced one failed
    assert (done["status"], statuses(done)) == ("COMPLETED", ["LAUNCHED", "FAILED"])
    logged = events(drs, job["jobID"])
    assert "USING_PREVIOUS_SNAPSHOT" in logged and "SNAPSHOT_FAIL" in logged
    newest = drs.client.describe_recovery_snapshots(
        sourceServerID=done["participatingServers"][0]["sourceServerID"], order="DESC"
    )
    instance = drs.client.describe_recovery_instances()["items"][0]
    assert instance["pointInTimeSnapshotDateTime"] == newest["items"][0]["timestamp"]


def test_a_large_estate_recovers_in_jobs_of_two_hundred(start_drs: DrsFactory) -> None:
    # Given 400 servers
    drs = connect(start_drs("large", machine_count=400))
    ids = [
        s["sourceServerID"] for p in drs.client.get_paginator("describe_source_servers").paginate() for s in p["items"]
    ]
    # When they are recovered in two jobs of 200
    jobs = [
        drs.client.start_recovery(sourceServers=[{"sourceServerID": i} for i in ids[k : k + 200]])["job"]
        for k in (0, 200)
    ]
    drs.clock.advance(900)  # a large job lasts 15 emulated minutes
    # Then every server launched and has a recovery instance, which pages through in full
    assert all(set(statuses(job_now(drs, job["jobID"]))) == {"LAUNCHED"} for job in jobs)
    pages = drs.client.get_paginator("describe_recovery_instances").paginate(PaginationConfig={"PageSize": 150})
    assert len({i["sourceServerID"] for p in pages for i in p["items"]}) == 400


class _FleetThatFailsOnce(InMemoryFleet):
    """EC2 refuses the first launch (capacity, throttling), then works."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def launch(self, requests: list[InstanceRequest]) -> list[str]:
        if not self.refused:
            self.refused += 1
            raise RuntimeError("EC2 refused the launch this once")
        return super().launch(requests)


def test_instances_the_fleet_failed_to_launch_are_launched_at_the_next_look(start_drs: DrsFactory) -> None:
    # Given a recovery whose instances the fleet fails to run the first time they are due
    fleet = _FleetThatFailsOnce()
    drs = connect(start_drs(fleet=fleet))
    web = drs.server_ids()["WebServer"]
    drs.client.start_recovery(sourceServers=[{"sourceServerID": web}])
    drs.clock.advance(240)
    # When DRS is looked at (once the emulator's own look has met the failure, or this one meets it)
    for _ in range(3):
        with contextlib.suppress(Exception):
            drs.client.describe_jobs()
        if fleet.instances:
            break
        time.sleep(0.2)
    # Then the instance was launched after all: the job's server has it, the fleet runs it
    assert fleet.refused == 1 and len(fleet.instances) == 1
    (server,) = drs.client.describe_jobs()["items"][0]["participatingServers"]
    assert server["launchStatus"] == "LAUNCHED" and server["recoveryInstanceID"] in fleet.instances
