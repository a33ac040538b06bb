"""The emulator behaves like the CloudEndure v5 API, on a clock the tests control."""

from __future__ import annotations

from datetime import datetime, timedelta

import requests

from local.cloudendure import Clock
from tests.conftest import EmulatorFactory
from tests.emulator.api import RawApi


def logged_in(emulator) -> RawApi:  # type: ignore[no-untyped-def]
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
    assert response.cookies.get("XSRF-TOKEN", "").startswith('"')


def test_bad_token_and_missing_xsrf_header_are_401_with_error_shape(start_emulator: EmulatorFactory) -> None:
    emulator = start_emulator()
    # When the token is wrong
    refused = requests.post(f"{emulator.base_url}/login", json={"userApiToken": "wrong"}, timeout=5)
    # Then 401 with {"message", "code"}
    assert refused.status_code == 401
    assert set(refused.json()) == {"message", "code"}
    # And a session without the X-XSRF-TOKEN header is refused too
    api = logged_in(emulator)
    del api.http.headers["X-XSRF-TOKEN"]
    assert api.get("/projects").status_code == 401


def test_repeated_bad_logins_are_throttled(start_emulator: EmulatorFactory) -> None:
    emulator = start_emulator()
    statuses = [
        requests.post(f"{emulator.base_url}/login", json={"userApiToken": "x"}, timeout=5).status_code for _ in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_versioned_path_serves_the_same_api(start_emulator: EmulatorFactory) -> None:
    emulator = start_emulator()
    api = RawApi(emulator.base_url.replace("/api/latest", "/api/v5"))
    assert api.login(emulator.api_token).status_code == 200
    assert api.get("/projects").json()["items"][0]["type"] == "DR"


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
    emulator = start_emulator(clock=frozen_clock)
    machine = logged_in(emulator).machines()[0]
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
    assert "replica" not in machine  # nothing launched yet


def test_job_progresses_on_the_emulated_clock(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given a recovery launch on a frozen clock
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    launched = api.launch()
    assert launched.status_code == 202
    job_path = f"/projects/{api.project_id()}/jobs/{launched.json()['id']}"

    def job() -> dict:  # type: ignore[type-arg]
        return api.get(job_path).json()

    # Then it moves PENDING -> STARTED -> COMPLETED as emulated time passes
    assert job()["status"] == "PENDING"
    frozen_clock.advance(60)
    assert job()["status"] == "STARTED"
    assert not any(e["message"] == "Finished starting converters" for e in job()["log"])
    frozen_clock.advance(130)
    assert any(e["message"] == "Finished starting converters" for e in job()["log"])
    assert job()["status"] == "STARTED"
    frozen_clock.advance(60)
    finished = job()
    assert finished["status"] == "COMPLETED" and "endDateTime" in finished
    # And every machine now has a replica, and the recovery is recorded in its lifeCycle
    machines = api.machines()
    assert all(m.get("replica") for m in machines)
    assert all(m["lifeCycle"]["lastRecoveryLaunchDateTime"] for m in machines)


def test_second_launch_while_job_runs_is_409(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    assert api.launch().status_code == 202
    second = api.launch()
    assert second.status_code == 409
    assert "already running" in second.json()["message"]
    # Once the first job is over a new launch is accepted again
    frozen_clock.advance(400)
    assert api.launch("TEST").status_code == 202


def test_launch_validation_errors_are_400(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    machine_id = api.machines()[0]["id"]
    cases = {
        "launchType": api.launch("FAILBACK"),
        "Unknown machine": api.launch(items=[{"machineId": "no-such-machine"}]),
        "Point in time": api.launch(items=[{"machineId": machine_id, "pointInTimeId": "no-such-point"}]),
        "items": api.launch(items=[]),
    }
    for expected_words, response in cases.items():
        assert response.status_code == 400, expected_words
        assert expected_words in response.json()["message"]
    assert emulator.account.launches_accepted == 0


def test_points_in_time_follow_the_console_retention(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    machine_id = api.machines()[0]["id"]
    points = api.get(f"/projects/{api.project_id()}/machines/{machine_id}/pointsintime").json()["items"]
    now = frozen_clock.now()
    ages = [now - datetime.fromisoformat(p["dateTime"]) for p in points]
    last_hour = [a for a in ages if a < timedelta(hours=1)]
    last_day = [a for a in ages if timedelta(hours=1) <= a < timedelta(days=1)]
    older = [a for a in ages if a >= timedelta(days=1)]
    # Every 10 minutes in the last hour, hourly in the last day, daily in the last month
    assert 5 <= len(last_hour) <= 6
    assert 22 <= len(last_day) <= 24
    assert 29 <= len(older) <= 31 and max(older) <= timedelta(days=31)
    assert 57 <= len(points) <= 61


def test_session_expires_after_configured_time(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    emulator = start_emulator("session-expiry", clock=frozen_clock)
    api = logged_in(emulator)
    assert api.get("/projects").status_code == 200
    frozen_clock.advance(91)
    assert api.get("/projects").status_code == 401


def test_admin_faults_answer_then_clear(start_emulator: EmulatorFactory) -> None:
    emulator = start_emulator()
    api = logged_in(emulator)
    requests.post(f"{emulator.admin_url}/faults", json={"route": "projects", "kind": "503", "count": 2}, timeout=5)
    assert [api.get("/projects").status_code for _ in range(3)] == [503, 503, 200]
    bad = requests.post(f"{emulator.admin_url}/faults", json={"route": "projects", "kind": "418"}, timeout=5)
    assert bad.status_code == 400


def test_admin_fails_the_running_job(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    job_id = api.launch().json()["id"]
    assert requests.post(f"{emulator.admin_url}/jobs/fail", timeout=5).json() == {"failed": 1}
    job = api.get(f"/projects/{api.project_id()}/jobs/{job_id}").json()
    assert job["status"] == "FAILED"


def test_replica_deletion_removes_the_target(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    emulator = start_emulator(clock=frozen_clock)
    api = logged_in(emulator)
    api.launch("TEST")
    frozen_clock.advance(300)
    replica_id = api.machines()[0]["replica"]
    project = api.project_id()
    deleted = api.http.delete(
        f"{emulator.base_url}/projects/{project}/replicas", json={"replicaIDs": [replica_id]}, timeout=5
    )
    assert deleted.status_code == 202 and deleted.json()["type"] == "CLEANUP"
    assert api.get(f"/projects/{project}/replicas/{replica_id}").status_code == 404
