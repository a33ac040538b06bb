"""Every emulator fault meets the client: transient ones are survived and counted within the
retry bounds, persistent ones raise the named exception, and a 409 is never retried."""

from __future__ import annotations

import logging
import time

import pytest
import requests
from dr_autopilot.errors import (
    AuthenticationFailed,
    InvalidResponse,
    JobAlreadyRunning,
    LicenseExpired,
    MachineNotFound,
    ProjectNotFound,
    RequestRejected,
    ServiceUnavailable,
)
from dr_autopilot.providers.cloudendure.client import CloudEndureClient, RetrySettings
from dr_autopilot.providers.cloudendure.models import LaunchItem, LaunchType

from local.cloudendure import CloudEndureEmulator, load_scenario
from tests.client.test_client_flow import FAST_RETRY, client_for
from tests.conftest import EmulatorFactory


def arm(emulator: CloudEndureEmulator, route: str, kind: str, count: int = 1, **extra: object) -> None:
    body = {"route": route, "kind": kind, "count": count, **extra}
    assert requests.post(f"{emulator.admin_url}/faults", json=body, timeout=5).status_code == 201


@pytest.mark.parametrize("kind", ["429", "500", "502", "503", "drop"])
def test_transient_fault_bursts_are_survived_and_counted(start_emulator: EmulatorFactory, kind: str) -> None:
    # Given three faulty answers in a row on the machines list (retry bound is four)
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    arm(emulator, "machines", kind, count=3)
    # When listing machines
    machines = list(client.machines(project.id))
    # Then the list arrives and the three retries are counted
    assert len(machines) == 2
    assert client.stats.retries == 3


@pytest.mark.parametrize("kind", ["429", "503", "drop"])
def test_persistent_faults_raise_service_unavailable(start_emulator: EmulatorFactory, kind: str) -> None:
    # Given the machines list answers badly for longer than any retry lasts
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    arm(emulator, "machines", kind, count=50)
    # When listing machines, then ServiceUnavailable names the call
    with pytest.raises(ServiceUnavailable, match="machines"):
        list(client.machines(project.id))
    # And the retries are bounded: one first try plus four retries, no more
    assert emulator.account.faults.calls["machines"] == 1 + FAST_RETRY.attempts


def test_retry_after_is_honoured(start_emulator: EmulatorFactory) -> None:
    # Given a logged-in client without backoff of its own, and a 429 that asks to wait one second
    emulator = start_emulator()
    client = client_for(emulator, RetrySettings(attempts=2, backoff_factor=0.0, backoff_max=5.0))
    client.login()
    arm(emulator, "projects", "429", count=1, retryAfterSeconds=1)
    # When listing projects
    started = time.monotonic()
    projects = client.projects()
    # Then the projects arrive, after the client waited the second Retry-After asked for
    assert projects
    assert time.monotonic() - started >= 0.9


def test_slow_answers_beyond_the_timeout_are_retried_then_reported(start_emulator: EmulatorFactory) -> None:
    # Given a client with a 0.3 s read timeout and one retry
    emulator = start_emulator()
    client = client_for(emulator, RetrySettings(attempts=1, backoff_factor=0.0, read_timeout=0.3))
    project = client.projects()[0]
    # When one answer is slower than the timeout
    arm(emulator, "machines", "delay", count=1, delaySeconds=0.6)
    # Then the call is retried and the machines arrive
    assert len(list(client.machines(project.id))) == 2
    # When every answer is slower than the timeout
    arm(emulator, "machines", "delay", count=5, delaySeconds=0.6)
    # Then ServiceUnavailable names the timeout
    with pytest.raises(ServiceUnavailable, match=r"ReadTimeout|ConnectionError"):
        list(client.machines(project.id))


def test_session_expiry_mid_run_relogs_once_and_repeats(start_emulator: EmulatorFactory) -> None:
    # Given a logged-in client whose session then expires
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    requests.post(f"{emulator.admin_url}/sessions/expire", timeout=5)
    # When listing machines
    machines = list(client.machines(project.id))
    # Then the client logs in again once and the call succeeds
    assert len(machines) == 2
    assert client.stats.relogins == 1


def test_wrong_token_is_authentication_failed(start_emulator: EmulatorFactory) -> None:
    # Given a client holding the wrong API token
    emulator = start_emulator()
    client = CloudEndureClient(api_token=lambda: "not-the-token", base_url=emulator.base_url, retry=FAST_RETRY)
    # When it calls the API, then AuthenticationFailed says the token was refused
    with pytest.raises(AuthenticationFailed, match="refused the API token"):
        client.projects()


def test_expired_license_is_named(start_emulator: EmulatorFactory) -> None:
    # Given an account whose license has expired
    emulator = start_emulator(load_scenario("two-tier").model_copy(update={"license_expired": True}))
    # When the client calls the API, then LicenseExpired is raised
    with pytest.raises(LicenseExpired):
        client_for(emulator).projects()


def test_409_is_job_already_running_and_never_retried(start_emulator: EmulatorFactory) -> None:
    # Given a job already running for the machines
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    items = [LaunchItem(machine_id=m.id) for m in client.machines(project.id)]
    client.launch(project.id, LaunchType.RECOVERY, items)
    # When launching again, then JobAlreadyRunning is raised
    with pytest.raises(JobAlreadyRunning, match="already running"):
        client.launch(project.id, LaunchType.RECOVERY, items)
    # And the second launch was sent exactly once and no second job exists
    assert emulator.account.faults.calls["launchMachines"] == 2
    assert emulator.account.launches_accepted == 1


def test_launch_answer_lost_is_not_sent_again(start_emulator: EmulatorFactory) -> None:
    # Given a launch whose answer will be a 500, so whether it was taken is unknown
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    items = [LaunchItem(machine_id=m.id) for m in client.machines(project.id)]
    arm(emulator, "launchMachines", "500", count=1)
    # When launching, then ServiceUnavailable is raised
    with pytest.raises(ServiceUnavailable):
        client.launch(project.id, LaunchType.RECOVERY, items)
    # And the launch was sent once, never repeated
    assert emulator.account.faults.calls["launchMachines"] == 1


def test_launch_refused_with_429_is_retried_because_it_was_not_taken(start_emulator: EmulatorFactory) -> None:
    # Given two 429 answers ahead of a launch (a 429 means the request was not taken)
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    items = [LaunchItem(machine_id=m.id) for m in client.machines(project.id)]
    arm(emulator, "launchMachines", "429", count=2)
    # When launching
    client.launch(project.id, LaunchType.RECOVERY, items)
    # Then the client retried until exactly one launch was accepted
    assert emulator.account.launches_accepted == 1


def test_validation_errors_and_unknown_things_are_named(start_emulator: EmulatorFactory) -> None:
    # Given a logged-in client
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    # When launching an unknown machine, then RequestRejected carries the API's reason
    with pytest.raises(RequestRejected, match="Unknown machine"):
        client.launch(project.id, LaunchType.RECOVERY, [LaunchItem(machine_id="nope")])
    # When reading an unknown machine, then MachineNotFound
    with pytest.raises(MachineNotFound):
        client.machine(project.id, "nope")
    # When looking for an unknown project, then ProjectNotFound lists the projects there are
    with pytest.raises(ProjectNotFound, match="DR-Autopilot-Workshop"):
        client.find_project("Another")


@pytest.mark.parametrize("route", ["projects", "machines", "job"])
def test_malformed_answers_raise_invalid_response(start_emulator: EmulatorFactory, route: str) -> None:
    # Given a running job, and a malformed answer armed on the route
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    job = client.launch(project.id, LaunchType.TEST, [LaunchItem(machine_id=m.id) for m in client.machines(project.id)])
    arm(emulator, route, "malformed")
    # When calling that route, then InvalidResponse says what does not fit
    with pytest.raises(InvalidResponse, match=r"does not fit|without an 'items' list"):
        {
            "projects": client.projects,
            "machines": lambda: list(client.machines(project.id)),
            "job": lambda: client.job(project.id, job.id),
        }[route]()


def test_token_never_appears_in_logs_errors_or_repr(
    start_emulator: EmulatorFactory, caplog: pytest.LogCaptureFixture
) -> None:
    # Given debug logging is captured
    emulator = start_emulator()
    caplog.set_level(logging.DEBUG)
    # When one client logs in and calls, and another is refused a near-miss token
    client = client_for(emulator)
    client.projects()
    bad = CloudEndureClient(api_token=lambda: emulator.api_token + "x", base_url=emulator.base_url, retry=FAST_RETRY)
    with pytest.raises(AuthenticationFailed) as refused:
        bad.projects()
    # Then the token appears in none of the logs, the client's repr or the error
    for text in (caplog.text, repr(client), str(refused.value), repr(refused.value)):
        assert emulator.api_token not in text


def test_tls_verification_stays_on() -> None:
    # Given a client built with the defaults
    client = CloudEndureClient(api_token=lambda: "t")
    # Then it verifies TLS certificates
    assert client._session.verify is True
    # And a base URL that is not HTTP(S) is refused
    with pytest.raises(ValueError, match="http"):
        CloudEndureClient(api_token=lambda: "t", base_url="ftp://example.com")
