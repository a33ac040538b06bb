"""The emulator behaves like the CloudEndure v5 API, on a clock the tests control."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests

from local.cloudendure import Clock, CloudEndureEmulator
from tests.conftest import EmulatorFactory
from tests.emulator.api import RawApi


def logged_in(emulator: CloudEndureEmulator) -> RawApi:
    api = RawApi(emulator.base_url)
    assert api.login(emulator.api_token).status_code == 200
    return api


def test_login_sets_session_and_quoted_xsrf_cookies(start_emulator: EmulatorFactory) -> None:
    # Given the two-tier emulator
    emulator = start_emulator()
    # When logging in with the right token
    response = requests.post(f"{emulator.base_url}/login", json={"userApiToken": emulator.api_token}, timeout=5)
    # Then both cookies are set, the XSRF value wrapped in double quotes as the real service does
    assert response.status_code == 200
    assert response.cookies.get("session")
    assert (response.cookies.get("XSRF-TOKEN") or "").startswith('"')


def test_bad_token_and_missing_xsrf_header_are_401_with_error_shape(start_emulator: EmulatorFactory) -> None:
    # Given the two-tier emulator
    emulator = start_emulator()
    # When the token is wrong
    refused = requests.post(f"{emulator.base_url}/login", json={"userApiToken": "wrong"}, timeout=5)
    # Then 401 with {"message", "code"}
    assert refused.status_code == 401
    assert set(refused.json()) == {"message", "code"}
    # And a logged-in session that leaves out the X-XSRF-TOKEN header is refused too
    api = logged_in(emulator)
    del api.http.headers["X-XSRF-TOKEN"]
    assert api.get("/projects").status_code == 401


def test_repeated_bad_logins_are_throttled(start_emulator: EmulatorFactory) -> None:
    # Given the two-tier emulator
    emulator = start_emulator()
    # When someone tries a wrong token six times in a row
    statuses = [
        requests.post(f"{emulator.base_url}/login", json={"userApiToken": "x"}, timeout=5).status_code for _ in range(6)
    ]
    # Then the first five are refused as 401 and the sixth is throttled with a 429
    assert statuses == [401] * 5 + [429]


def test_versioned_path_serves_the_same_api(start_emulator: EmulatorFactory) -> None:
    # Given a caller that uses the versioned /api/v5 prefix instead of /api/latest
    emulator = start_emulator()
    api = RawApi(emulator.base_url.replace("/api/latest", "/api/v5"))
    # When it logs in and lists the projects
    login = api.login(emulator.api_token)
    projects = api.get("/projects")
    # Then the same API answers both calls
    assert login.status_code == 200
    assert projects.json()["items"][0]["type"] == "DR"


def test_machine_pagination_boundaries(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a generated project of 7 machines
    emulator = start_emulator("large", machine_count=7, clock=frozen_clock)
    api = logged_in(emulator)
    path = f"/projects/{api.project_id()}/machines"
    # When paging by 3
    pages = [api.get(path, offset=offset, limit=3).json()["items"] for offset in (0, 3, 6, 9)]
    # Then the pages hold 3, 3, 1 and 0 machines with no overlap
    assert [len(page) for page in pages] == [3, 3, 1, 0]
    names = [m["sourceProperties"]["name"] for page in pages for m in page]
    assert len(set(names)) == 7
    # And a bad paging parameter is a 400 naming it
    bad = api.get(path, offset=-1)
    assert bad.status_code == 400 and "offset" in bad.json()["message"]


def test_machine_carries_replication_fields(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given the two-tier emulator, nothing launched yet
    emulator = start_emulator(clock=frozen_clock)
    # When listing the machines
    machine = logged_in(emulator).machines()[0]
    # Then a machine replicates and reports every replication field a readiness check reads
    info = machine["replicationInfo"]
    assert machine["replicationStatus"] == "STARTED"
    for field in (
        "totalStorageBytes",
        "replicatedStorageBytes",
        "backloggedStorageBytes",
        "rescannedStorageBytes",
        "lastConsistencyDateTime",
        "lastSeenDateTime",
    ):
        assert field in info
    # And it has no replica yet
    assert "replica" not in machine


# CloudEndure's steps of initial sync, in order, as ../shared/docs/cloudendure-api.md lists them.
DOCUMENTED_STEPS = [
    "WAITING_TO_INITIATE_REPLICATION",
    "CREATING_FIREWALL_RULES",
    "CREATING_REPLICATION_SERVER",
    "BOOTING_REPLICATION_SERVER",
    "RESOLVING_MANAGEMENT_SERVER_ADDRESS",
    "AUTHENTICATING_WITH_MANAGEMENT_SERVER",
    "DOWNLOADING_REPLICATION_SOFTWARE",
    "CREATING_REPLICATION_DISKS",
    "ATTACHING_REPLICATION_DISKS",
    "PAIRING_REPLICATION_SERVER_WITH_AGENT",
    "ESTABLISHING_AGENT_REPLICATOR_COMMUNICATION",
]


def nulls(value: Any, path: str = "$") -> list[str]:
    """Every path in a JSON value that holds null."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in nulls(item, f"{path}[{index}]")]
    return []


def test_machines_report_cloudendures_initiation_steps_and_omit_absent_values(
    start_emulator: EmulatorFactory, frozen_clock: Clock
) -> None:
    # Given the two-tier emulator, and the lagging one (a machine whose replication is not started)
    for scenario in ("two-tier", "lagging"):
        emulator = start_emulator(scenario, clock=frozen_clock)
        # When listing the machines
        machines = logged_in(emulator).machines()
        # Then each reports CloudEndure's initiation steps in order, and no value is sent as null
        for machine in machines:
            (attempt,) = machine["replicationInfo"]["initiationStates"]["items"]
            assert [step["name"] for step in attempt["steps"]] == DOCUMENTED_STEPS
            assert nulls(machine) == [], (scenario, nulls(machine))


def test_job_progresses_on_the_emulated_clock(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a frozen clock
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)

    # When a recovery launch is accepted
    launched = api.launch()
    assert launched.status_code == 202
    job_path = f"/projects/{api.project_id()}/jobs/{launched.json()['id']}"

    def job() -> dict[str, Any]:
        return dict(api.get(job_path).json())

    # Then its job is PENDING until emulated time passes
    assert job()["status"] == "PENDING"
    # When one emulated minute passes
    frozen_clock.advance(60)
    # Then it has STARTED, the converters not finished yet
    assert job()["status"] == "STARTED"
    assert not any(e["message"] == "Finished starting converters" for e in job()["log"])
    # When 130 more seconds pass
    frozen_clock.advance(130)
    # Then the converters have finished and the job is still STARTED
    assert any(e["message"] == "Finished starting converters" for e in job()["log"])
    assert job()["status"] == "STARTED"
    # When another minute passes, beyond the job's four minutes
    frozen_clock.advance(60)
    # Then it is COMPLETED, with an end time
    finished = job()
    assert finished["status"] == "COMPLETED" and "endDateTime" in finished
    # And every machine now has a replica, and the recovery is recorded in its lifeCycle
    machines = api.machines()
    assert all(m.get("replica") for m in machines)
    assert all(m["lifeCycle"]["lastRecoveryLaunchDateTime"] for m in machines)


def test_second_launch_while_job_runs_is_409(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a launch whose job is running
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    assert api.launch().status_code == 202
    # When the same machines are launched again
    second = api.launch()
    # Then the second launch is a 409 that names the running job
    assert second.status_code == 409
    assert "already running" in second.json()["message"]
    # And once the first job is over, a new launch is accepted again
    frozen_clock.advance(400)
    assert api.launch("TEST").status_code == 202


def test_launch_validation_errors_are_400(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given the two-tier emulator and one of its machines
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    machine_id = api.machines()[0]["id"]
    # When launching with a bad type, an unknown machine, an unknown point in time or no items
    cases = {
        "launchType": api.launch("FAILBACK"),
        "Unknown machine": api.launch(items=[{"machineId": "no-such-machine"}]),
        "Point in time": api.launch(items=[{"machineId": machine_id, "pointInTimeId": "no-such-point"}]),
        "items": api.launch(items=[]),
    }
    # Then each is a 400 whose message names what is wrong
    for expected_words, response in cases.items():
        assert response.status_code == 400, expected_words
        assert expected_words in response.json()["message"]
    # And nothing was launched
    assert emulator.account.launches_accepted == 0


def test_points_in_time_follow_the_console_retention(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a machine that has replicated for longer than a month
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    machine_id = api.machines()[0]["id"]
    # When listing its points in time
    points = api.get(f"/projects/{api.project_id()}/machines/{machine_id}/pointsintime").json()["items"]
    # Then they are every 10 minutes in the last hour, hourly in the last day, daily in the last month
    now = frozen_clock.now()
    ages = [now - datetime.fromisoformat(p["dateTime"]) for p in points]
    last_hour = [a for a in ages if a < timedelta(hours=1)]
    last_day = [a for a in ages if timedelta(hours=1) <= a < timedelta(days=1)]
    older = [a for a in ages if a >= timedelta(days=1)]
    assert 5 <= len(last_hour) <= 6
    assert 22 <= len(last_day) <= 24
    assert 29 <= len(older) <= 31 and max(older) <= timedelta(days=31)
    assert 57 <= len(points) <= 61


def test_session_expires_after_configured_time(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a scenario whose sessions last 90 seconds, and a session that works
    emulator = start_emulator("session-expiry", clock=frozen_clock)
    api = logged_in(emulator)
    assert api.get("/projects").status_code == 200
    # When 91 emulated seconds pass
    frozen_clock.advance(91)
    # Then the session is refused
    assert api.get("/projects").status_code == 401


def test_admin_faults_answer_then_clear(start_emulator: EmulatorFactory) -> None:
    # Given a logged-in caller
    emulator = start_emulator()
    api = logged_in(emulator)
    # When the admin API arms two 503 answers on the projects route
    requests.post(f"{emulator.admin_url}/faults", json={"route": "projects", "kind": "503", "count": 2}, timeout=5)
    # Then the next two calls get 503 and the third is answered again
    assert [api.get("/projects").status_code for _ in range(3)] == [503, 503, 200]
    # And a fault of an unknown kind is refused with a 400
    bad = requests.post(f"{emulator.admin_url}/faults", json={"route": "projects", "kind": "418"}, timeout=5)
    assert bad.status_code == 400


def test_admin_fails_the_running_job(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a launch whose job is running
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    job_id = api.launch().json()["id"]
    # When the admin API fails the running jobs
    failed = requests.post(f"{emulator.admin_url}/jobs/fail", timeout=5).json()
    # Then it reports one, and the API shows that job FAILED
    assert failed == {"failed": 1}
    job = api.get(f"/projects/{api.project_id()}/jobs/{job_id}").json()
    assert job["status"] == "FAILED"


def test_replica_deletion_removes_the_target(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a completed test launch that left a replica
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    api.launch("TEST")
    frozen_clock.advance(300)
    replica_id = api.machines()[0]["replica"]
    project = api.project_id()
    # When the replica is deleted
    deleted = api.http.delete(
        f"{emulator.base_url}/projects/{project}/replicas", json={"replicaIDs": [replica_id]}, timeout=5
    )
    # Then the answer is a CLEANUP job
    assert deleted.status_code == 202 and deleted.json()["type"] == "CLEANUP"
    # And the replica is gone
    assert api.get(f"/projects/{project}/replicas/{replica_id}").status_code == 404
