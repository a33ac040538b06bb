"""LaunchRecovery's guarantee at the provider level: one launch per execution, even when the
answer to the launch was lost, and a 409 from an earlier job is reported, never retried."""

from __future__ import annotations

import threading

import pytest
from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import AuthenticationFailed, JobAlreadyRunning
from dr_autopilot.models import Mode
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.providers.cloudendure.models import LaunchItem, LaunchType, PointInTime
from dr_autopilot.providers.cloudendure.provider import CloudEndureProvider

from local.cloudendure import CloudEndureEmulator
from local.environment import base_context
from tests.client.test_client_flow import client_for
from tests.conftest import EmulatorFactory


def provider_for(emulator: CloudEndureEmulator) -> CloudEndureProvider:
    """The CloudEndure provider, configured as cdk.json's example but talking to `emulator`."""
    raw = base_context()["drAutopilot"]
    config = FailoverConfig.parse({**raw, "cloudendure": {**raw["cloudendure"], "apiUrl": emulator.base_url}})
    return CloudEndureProvider(client_for(emulator), config)


def test_a_retried_launch_adopts_the_job_its_earlier_attempt_started(start_emulator: EmulatorFactory) -> None:
    # Given an execution that checked replication, then launched, and lost the answer
    emulator = start_emulator()
    provider = provider_for(emulator)
    checked_at = provider.assess_replication().checked_at
    first = provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id="arn:exec")
    # When the step runs again
    again = provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id="arn:exec")
    # Then it adopts and reports the job of the first attempt
    assert again.adopted and again.job_id == first.job_id
    # And CloudEndure accepted only the one launch
    assert emulator.account.launches_accepted == 1


def test_a_job_started_before_this_execution_is_reported_as_already_running(start_emulator: EmulatorFactory) -> None:
    # Given someone launched the same machines before this execution checked replication
    emulator = start_emulator()
    client = client_for(emulator)
    project = client.projects()[0]
    client.launch(project.id, LaunchType.RECOVERY, [LaunchItem(machine_id=m.id) for m in client.machines(project.id)])
    emulator.clock.advance(1)
    provider = provider_for(emulator)
    checked_at = provider.assess_replication().checked_at
    # When this execution launches
    # Then it is told a job is already running, an error the workflow reports and does not retry
    with pytest.raises(JobAlreadyRunning):
        provider.launch(Mode.RECOVERY, None, not_before=checked_at, execution_id="arn:exec")
    # And no second launch reached CloudEndure
    assert emulator.account.launches_accepted == 1


def test_points_in_time_for_a_timestamp_are_looked_up_eight_at_a_time(start_emulator: EmulatorFactory) -> None:
    # Given 16 machines and a recovery to a moment in the past (one points-in-time request each)
    emulator = start_emulator("large", machine_count=16)
    raw = base_context()["drAutopilot"]
    config = FailoverConfig.parse(
        {
            **raw,
            "machines": "all",
            "webserverMachine": "app-server-0001",
            "cloudendure": {**raw["cloudendure"], "apiUrl": emulator.base_url, "projectName": "DR-Autopilot-Estate"},
        }
    )
    client = client_for(emulator)
    provider = CloudEndureProvider(client, config)
    requested = provider.assess_replication().checked_at
    # And a client whose lookups each wait until eight are in flight (a barrier breaks after 10 s)
    in_flight, peak, lock = [0], [0], threading.Lock()
    eight = threading.Barrier(8, timeout=10)
    original = client.points_in_time

    def points_in_time(project_id: str, machine_id: str) -> list[PointInTime]:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        eight.wait()
        try:
            return original(project_id, machine_id)
        finally:
            with lock:
                in_flight[0] -= 1

    client.points_in_time = points_in_time  # type: ignore[method-assign]
    # When the recovery point is resolved
    point = provider.resolve_recovery_point(requested)
    # Then every machine got its point: two rounds of eight lookups at once, never more
    assert point.machine_count == 16 and point.newest_chosen is not None
    assert peak[0] == 8


def test_a_token_revoked_while_eight_lookups_run_is_tried_once_not_by_every_thread(
    start_emulator: EmulatorFactory,
) -> None:
    # Given 16 machines, and a function whose token (and its fresh read of the secret) is the old one
    emulator = start_emulator("large", machine_count=16)
    old = emulator.api_token
    client = CloudEndureClient(api_token=lambda: old, fresh_api_token=lambda: old, base_url=emulator.base_url)
    raw = base_context()["drAutopilot"]
    cloudendure = {**raw["cloudendure"], "apiUrl": emulator.base_url, "projectName": "DR-Autopilot-Estate"}
    config = FailoverConfig.parse(
        {**raw, "machines": "all", "webserverMachine": "app-server-0001", "cloudendure": cloudendure}
    )
    provider = CloudEndureProvider(client, config)
    requested = provider.assess_replication().checked_at
    # And the token is revoked (rotated elsewhere) while eight points-in-time lookups are in flight
    eight, revoked = threading.Barrier(8, timeout=10), threading.Event()
    original = client.points_in_time

    def points_in_time(project_id: str, machine_id: str) -> list[PointInTime]:
        if not revoked.is_set():
            eight.wait()
            if not revoked.is_set():
                revoked.set()
                emulator.rotate_token("rotated-token")
        return original(project_id, machine_id)

    client.points_in_time = points_in_time  # type: ignore[method-assign]
    logins_before = emulator.account.faults.calls.get("login", 0)
    # When the recovery point is resolved, Then the refusal is named (not hidden behind a lockout)
    with pytest.raises(AuthenticationFailed):
        provider.resolve_recovery_point(requested)
    # And one thread logged in again (with the token, then the secret read afresh), not all eight
    assert emulator.account.faults.calls.get("login", 0) - logins_before == 2
    # And the account is not locked: the right token logs in at once
    CloudEndureClient(api_token=lambda: "rotated-token", base_url=emulator.base_url).login()


def test_a_retry_adopts_the_launch_of_the_checked_machines_though_one_is_gone_since(
    start_emulator: EmulatorFactory,
) -> None:
    # Given four machines checked and launched, the answer lost, then one machine removed from the project
    emulator = start_emulator("large", machine_count=4)
    raw = base_context()["drAutopilot"]
    cloudendure = {**raw["cloudendure"], "apiUrl": emulator.base_url, "projectName": "DR-Autopilot-Estate"}
    config = FailoverConfig.parse(
        {**raw, "machines": "all", "webserverMachine": "app-server-0001", "cloudendure": cloudendure}
    )
    provider = CloudEndureProvider(client_for(emulator), config)
    report = provider.assess_replication()
    first = provider.launch(
        Mode.RECOVERY, None, report.checked_at, execution_id="arn:exec", checked_machines=report.machines_digest
    )
    emulator.account.project.machine_order.pop()
    # When the launch step runs again, Then it adopts that job: one launch, none refused
    again = provider.launch(
        Mode.RECOVERY, None, report.checked_at, execution_id="arn:exec", checked_machines=report.machines_digest
    )
    assert again.adopted and again.job_id == first.job_id
    assert emulator.account.launches_accepted == 1
