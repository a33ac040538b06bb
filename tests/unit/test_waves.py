"""Recovery plans in waves: the configuration is refused unless it is a plan of the machines, and a
wave is launched only after the one before it completed and passed its check."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from dr_autopilot.config import CONTEXT_KEY, ConfigError, FailoverConfig
from dr_autopilot.errors import MissingStepResult, WavePlanInvalid
from dr_autopilot.logic.launch_recovery import launch_recovery
from dr_autopilot.logic.poll_job import poll_job
from dr_autopilot.models import (
    FailoverRequest,
    JobProgress,
    LaunchResult,
    Mode,
    ProviderJobStatus,
    ReplicationReport,
    WaveCheck,
    WorkflowState,
)
from dr_autopilot.ports import JobSnapshot, Wave
from dr_autopilot.providers import refuse_a_plan_that_does_not_fit

from local.environment import base_context, merge
from tests.fakes import NOW, FakeLock

PLAN = [
    {"name": "database", "machines": ["DBServer"]},
    {"name": "application", "machines": ["AppServer"], "check": {"machine": "AppServer", "protocol": "http"}},
    {"name": "web", "machines": ["WebServer"]},
]


def configuration(**changes: Any) -> dict[str, Any]:
    return merge(
        base_context()[CONTEXT_KEY],
        {"machines": ["DBServer", "AppServer", "WebServer"], "waves": PLAN, "workflowTimeoutSeconds": 14400, **changes},
    )


def test_a_plan_of_the_machines_is_accepted_in_its_order() -> None:
    config = FailoverConfig.parse(configuration())
    assert config.waves is not None and [wave.name for wave in config.waves] == ["database", "application", "web"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"waves": [*PLAN[:2]]}, "not in any wave: WebServer"),
        ({"waves": [*PLAN, {"name": "again", "machines": ["DBServer"]}]}, "DBServer is in more than one wave"),
        ({"waves": [*PLAN[:2], {"name": "web", "machines": ["WebServer", "Mail"]}]}, "not in machines: Mail"),
        ({"waves": [PLAN[0], PLAN[0] | {"machines": ["AppServer"]}, PLAN[2]]}, "two waves have the same name"),
        (
            {"waves": [PLAN[0] | {"check": {"machine": "WebServer"}}, PLAN[1], PLAN[2]]},
            "probes 'WebServer', which is not launched by then",
        ),
        ({"waves": [{"name": "all", "tags": {"Role": "db"}}]}, "tags select DRS source servers"),
        ({"waves": [{"name": "x"}]}, "give its machines (names) or its tags"),
        ({"waves": [{"name": "x", "machines": ["DBServer"], "tags": {"a": "b"}}]}, "one of the two"),
        ({"waves": []}, "drAutopilot.waves"),
        ({"waves": [PLAN[0]] * 11}, "drAutopilot.waves"),
        ({"waves": [PLAN[0] | {"pauseSeconds": -1}, PLAN[1], PLAN[2]]}, "drAutopilot.waves.0.pauseSeconds"),
        ({"waves": [PLAN[0], PLAN[1] | {"check": {"machine": "AppServer", "protocol": "udp"}}, PLAN[2]]}, "protocol"),
        ({"workflowTimeoutSeconds": 7200}, "job.timeoutSeconds x 3 wave(s) 5400"),
    ],
)
def test_a_plan_that_is_not_one_of_the_machines_is_refused_naming_why(changes: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        FailoverConfig.parse(configuration(**changes))
    assert words in str(refused.value)


class PlanProvider:
    """Launches whatever wave it is asked for, and records the waves it was asked for."""

    def __init__(self) -> None:
        self.waves: list[Wave | None] = []

    def launch(self, mode: Mode, requested: Any, not_before: Any, execution_id: str, **kwargs: Any) -> LaunchResult:
        wave = kwargs.get("wave")
        self.waves.append(wave)
        index = wave.index if wave else 0
        return LaunchResult(job_id=f"job-{index}", launch_type="RECOVERY", machine_count=1, launched_at=NOW)

    def job_snapshot(self, job_id: str, seen: int) -> JobSnapshot:
        return JobSnapshot(ProviderJobStatus.RUNNING, 2, ["a", "b"][seen:], None, NOW, NOW + timedelta(seconds=5))


def state(**parts: Any) -> WorkflowState:
    request = FailoverRequest(
        mode=Mode.RECOVERY,
        force=False,
        dry_run=False,
        requested_by="alice",
        reason="",
        trigger="console",
        execution_id="arn:exec",
        execution_name="exec-1",
        started_at=NOW,
    )
    replication = ReplicationReport(total=3, ready=3, not_ready=0, checked_at=NOW)
    return WorkflowState(request=request, replication=replication, **parts)


def test_waves_are_launched_in_order_each_after_the_one_before_passed() -> None:
    config = FailoverConfig.parse(configuration())
    provider, lock = PlanProvider(), FakeLock(holder="arn:exec")
    # Given the first wave was launched
    first = launch_recovery(state(), provider, lock, config.waves)  # type: ignore[arg-type]
    assert (first.wave_index, first.wave_count, [w.name for w in first.waves]) == (0, 3, ["database"])
    # When the next launch is asked for before its job completed, or before its check passed
    running = JobProgress(job_id="job-0", status=ProviderJobStatus.RUNNING, log_lines=0)
    done = JobProgress(job_id="job-0", status=ProviderJobStatus.COMPLETED, log_lines=0, completed_observed_at=NOW)
    not_ready = WaveCheck(wave_index=0, wave="database", ready=False, checked_at=NOW, last_wave=False)
    for parts in ({"job": running}, {"job": done}, {"job": done, "wave_check": not_ready}):
        # Then it is refused, and nothing is launched
        with pytest.raises(MissingStepResult):
            launch_recovery(state(launch=first, **parts), provider, lock, config.waves)  # type: ignore[arg-type]
    assert len(provider.waves) == 1
    # And once the wave completed and its check passed, the next wave is launched, the first one's
    # completion noted
    passed = not_ready.model_copy(update={"ready": True})
    second = launch_recovery(state(launch=first, job=done, wave_check=passed), provider, lock, config.waves)  # type: ignore[arg-type]
    assert provider.waves[-1] == Wave(index=1, name="application", machines=["AppServer"], tags=None)
    assert [(w.name, w.completed_at) for w in second.waves] == [("database", NOW), ("application", None)]


def test_the_next_wave_s_job_is_polled_from_its_start() -> None:
    # Given the first wave's job was polled to its end (two log lines seen)
    launch = LaunchResult(job_id="job-1", launch_type="RECOVERY", machine_count=1, launched_at=NOW, wave_index=1)
    previous = JobProgress(job_id="job-0", status=ProviderJobStatus.COMPLETED, log_lines=2, polls=9)
    # When the second wave's job is polled
    progress = poll_job(state(launch=launch, job=previous), PlanProvider(), FailoverConfig.parse(configuration()).job)  # type: ignore[arg-type]
    # Then it is a new job: its lines from the first, its polls counted from one
    assert progress.job_id == "job-1" and progress.new_log_lines == ["a", "b"] and progress.polls == 1


@pytest.mark.parametrize(
    ("waves", "words"),
    [
        ([("db", ["DBServer"]), ("web", ["WebServer"])], "in no wave: AppServer"),
        ([("a", ["DBServer", "AppServer"]), ("b", ["AppServer", "WebServer"])], "in more than one: AppServer (a, b)"),
        ([("a", ["DBServer", "AppServer", "WebServer", "Mail"])], "not among the machines to recover: Mail"),
    ],
)
def test_a_plan_that_does_not_fit_the_machines_found_is_refused_before_any_launch(
    waves: list[tuple[str, list[str]]], words: str
) -> None:
    # Given the machines the provider lists (machines "all", or DRS tags: only known at run time)
    found = ["DBServer", "AppServer", "WebServer"]
    # When the replication check compares them with the plan, Then a plan that does not hold each exactly once is refused
    with pytest.raises(WavePlanInvalid, match=re.escape(words)):
        refuse_a_plan_that_does_not_fit(found, waves)
    refuse_a_plan_that_does_not_fit(found, [("one", found)])  # and a plan that does is accepted
