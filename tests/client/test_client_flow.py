"""The client walks the whole recovery path against the emulator, over real HTTP."""

from __future__ import annotations

import time

import pytest
import requests
from dr_autopilot.providers.cloudendure.client import CloudEndureClient, RetrySettings
from dr_autopilot.providers.cloudendure.models import JobStatus, LaunchItem, LaunchType
from dr_autopilot.providers.cloudendure.replication import choose_point_in_time

from local.cloudendure import Clock, CloudEndureEmulator, load_scenario
from tests.conftest import EmulatorFactory

FAST_RETRY = RetrySettings(attempts=4, backoff_factor=0.01, backoff_max=0.2, read_timeout=2.0)


def client_for(emulator: CloudEndureEmulator, retry: RetrySettings = FAST_RETRY) -> CloudEndureClient:
    return CloudEndureClient(api_token=lambda: emulator.api_token, base_url=emulator.base_url, retry=retry)


@pytest.mark.parametrize(
    ("launch_type", "lifecycle_field"),
    [(LaunchType.RECOVERY, "last_recovery_launch_date_time"), (LaunchType.TEST, "last_test_launch_date_time")],
)
def test_recovery_path_from_login_to_landing_page(
    start_emulator: EmulatorFactory, launch_type: LaunchType, lifecycle_field: str
) -> None:
    # Given the two-tier site, its job compressed 240x (about one real second)
    emulator = start_emulator(time_scale=240)
    client = client_for(emulator)

    # When the client logs in, finds the machines and a recovery point, and launches
    project = client.find_project("DR-Autopilot-Workshop")
    machines = {m.name: m for m in client.machines(project.id)}
    assert set(machines) == {"DBServer", "WebServer"}
    points = client.points_in_time(project.id, machines["WebServer"].id)
    point = choose_point_in_time(points, points[-2].date_time)
    assert point is not None and point.id == points[-2].id
    items = [LaunchItem(machine_id=m.id, point_in_time_id=None) for m in machines.values()]
    job = client.launch(project.id, launch_type, items)
    assert job.known_status() is JobStatus.PENDING

    # Then the job reaches COMPLETED with the converters line in its log
    deadline = time.monotonic() + 10
    while not (job := client.job(project.id, job.id)).known_status().finished and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.known_status() is JobStatus.COMPLETED
    assert "Finished starting converters" in [entry.message for entry in job.log]

    # And the webserver's replica has a public IP that serves the landing page
    webserver = client.machine(project.id, machines["WebServer"].id)
    assert getattr(webserver.life_cycle, lifecycle_field) is not None
    assert webserver.replica is not None
    replica = client.replica(project.id, webserver.replica)
    assert replica.machine == webserver.id and replica.machine_cloud_id
    page = requests.get(f"http://{replica.public_ips[0]}:{emulator.landing_port}/", timeout=5)
    assert page.status_code == 200 and "Hello from the PHP webserver" in page.text
    assert client.stats.retries == 0 and client.stats.relogins == 0


def test_login_follows_a_307_to_the_versioned_api(start_emulator: EmulatorFactory) -> None:
    # Given a service that redirects /api/latest/login to the versioned API
    scenario = load_scenario("two-tier").model_copy(update={"login_redirect": True})
    emulator = start_emulator(scenario)
    client = client_for(emulator)
    # When the client lists the projects
    projects = client.projects()
    # Then it followed the redirect, and keeps using the versioned API
    assert projects[0].name == "DR-Autopilot-Workshop"
    assert client.base_url.endswith("/api/v5")


def test_listing_pages_through_every_machine(start_emulator: EmulatorFactory) -> None:
    # Given a project of 1234 machines
    emulator = start_emulator("large", machine_count=1234)
    client = client_for(emulator)
    project = client.projects()[0]
    # When listing them 500 at a time
    names = [m.name for m in client.machines(project.id, page_size=500)]
    # Then every machine arrives once, in three pages (after the login and the projects call)
    assert len(names) == len(set(names)) == 1234
    assert client.stats.requests == 1 + 1 + 3


def test_server_time_follows_the_services_clock(start_emulator: EmulatorFactory, frozen_clock: Clock) -> None:
    # Given an emulator whose clock is far from the machine's
    emulator = start_emulator(clock=frozen_clock)
    client = client_for(emulator)
    # When the client has talked to it
    client.projects()
    # Then the client reports the service's time, to the second
    assert abs((client.server_time() - frozen_clock.now()).total_seconds()) < 1.0
