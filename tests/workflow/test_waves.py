"""Recovery plans in waves: the three-tier site (DBServer, AppServer, WebServer) recovered wave by
wave, each wave's job created only after the one before completed and passed its check; a middle
wave that fails its check stops the plan before the last wave, with DNS unchanged."""

from __future__ import annotations

import itertools
import json

import boto3
import pytest
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from tests.workflow.conftest import ON_BOTH_PROVIDERS

pytestmark = pytest.mark.workflow


@ON_BOTH_PROVIDERS
def test_a_three_tier_plan_recovers_wave_by_wave_and_stops_at_a_failing_wave(env: LocalFailoverEnvironment) -> None:
    # Given the three-tier site, and the stack synthesized with its plan of three waves
    # (CloudEndure: by machine names; DRS: by the servers' Role tags)
    env.reset_site("three-tier")
    with env.reconfigured({}) as planned:
        assert planned.config.waves is not None and [w.name for w in planned.config.waves] == [
            "database",
            "application",
            "web",
        ]
        # When on-call starts a recovery
        result = planned.executions.run({"requestedBy": "alice"})
        # Then it succeeds with one launch per wave, in the plan's order
        assert result.status == "SUCCEEDED", result.cause
        jobs = planned.provider.launch_job_ids()
        assert planned.provider.launches_accepted == 3 and len(jobs) == 3
        (launch,) = [out["launch"] for out in result.state_outputs(StateName.LAUNCH_RECOVERY)][-1:]
        assert [w["name"] for w in launch["waves"]] == ["database", "application", "web"]
        assert [w["jobId"] for w in launch["waves"]] == jobs
        # And each wave's job was created only after the previous wave's job completed (the emulator's times)
        windows = [planned.provider.job_window(job) for job in jobs]
        assert all(window is not None and window[1] is not None for window in windows)
        for before, after in itertools.pairwise(windows):
            assert before is not None and after is not None and before[1] is not None
            assert after[0] >= before[1]
        # And the application wave's check passed before the web wave launched
        checks = [out["waveCheck"] for out in result.state_outputs(StateName.CHECK_WAVE)]
        assert [c["wave"] for c in checks if c["ready"]] == ["database", "application", "web"]
        assert "AppServer: GET http://" in next(
            c["detail"] for c in checks if c["wave"] == "application" and c["ready"]
        )
        # And DNS points at the healthy webserver the last wave recovered
        assert result.output is not None and planned.site.record_values() == [result.output["recoveredAddress"]]

        # Given the same plan, and an application server that never answers once recovered
        planned.reset_site("three-tier-app-down")
        # When on-call starts a recovery
        failed = planned.executions.run({"requestedBy": "alice"})
        # Then it fails at the application wave's check: the web wave was never launched
        assert failed.status == "FAILED" and failed.error == "WaveCheckFailed", failed.cause
        assert planned.provider.launches_accepted == 2
        assert StateName.FIND_TARGETS not in failed.entered_states
        # And DNS was not changed
        assert planned.site.record_values() == [PRIMARY_ADDRESS]
        # And one final message names the wave, what was launched and what was not
        (final,) = [m for m in planned.site.notifications() if m["subject"].endswith("failed")]
        text = final["message"]
        assert "wave 'application': AppServer did not pass its check" in text
        assert "Wave 'database': launch job" in text and "Wave 'application': launch job" in text
        assert "1 later wave(s) of the recovery plan were not launched" in text
        assert f"was not changed: it still points at {PRIMARY_ADDRESS}" in text


def test_each_wave_is_launched_once_however_often_its_step_runs(env: LocalFailoverEnvironment) -> None:
    # Given the three-tier plan, and the second wave's launch step timing out after it launched
    env.reset_site("three-tier")
    with env.reconfigured({}) as planned:
        planned.aws.runtime.stall(StateName.CHECK_WAVE, seconds=60)  # the first wave's check waits meanwhile
        arn = planned.executions.start({"requestedBy": "alice"})
        planned.executions.wait_until_entered(arn, StateName.CHECK_WAVE)
        planned.aws.runtime.time_out_after_return(StateName.LAUNCH_RECOVERY)
        planned.aws.runtime.release_stalls()
        # When the run goes on (the step is retried)
        result = planned.executions.wait(arn)
        # Then it succeeded with exactly one job per wave: the retry got the second wave's stored job
        assert result.status == "SUCCEEDED", result.cause
        assert planned.provider.launches_accepted == 3
        launches = [out["launch"] for out in result.state_outputs(StateName.LAUNCH_RECOVERY)]
        assert [launch["waveIndex"] for launch in launches] == [0, 1, 2]
        # And when each wave's step is invoked again with its own input (a re-drive), it answers that
        # wave's job and launches nothing
        inputs = [
            e["stateEnteredEventDetails"]["input"]
            for e in result.events
            if e.get("stateEnteredEventDetails", {}).get("name") == StateName.LAUNCH_RECOVERY
        ]
        (function,) = [name for name in planned.deployment.functions if StateName.LAUNCH_RECOVERY in name]
        lambda_ = planned.aws.client("lambda")
        answers = [
            json.loads(lambda_.invoke(FunctionName=function, Payload=payload)["Payload"].read()) for payload in inputs
        ]
        assert [answer["jobId"] for answer in answers] == [launch["jobId"] for launch in launches]
        assert planned.provider.launches_accepted == 3


def test_a_lost_wave_launch_answer_is_reported_by_its_job(env: LocalFailoverEnvironment) -> None:
    # Given the three-tier plan, and the second wave's launch step whose answers are lost until its
    # retries run out (found by the red team: the message said that wave was not launched while its job ran)
    env.reset_site("three-tier")
    with env.reconfigured({}) as planned:
        planned.aws.runtime.stall(StateName.CHECK_WAVE, seconds=60)  # the first wave's check waits meanwhile
        arn = planned.executions.start({"requestedBy": "alice"})
        planned.executions.wait_until_entered(arn, StateName.CHECK_WAVE)
        planned.aws.runtime.time_out_after_return(StateName.LAUNCH_RECOVERY, count=20)
        planned.aws.runtime.release_stalls()
        result = planned.executions.wait(arn)
        planned.aws.runtime.disarm()
        # Then the run failed with two jobs (the second wave's launched once), DNS unchanged
        assert result.status == "FAILED"
        jobs = planned.provider.launch_job_ids()
        assert len(jobs) == 2 and planned.site.record_values() == [PRIMARY_ADDRESS]
        # And the one final message names both jobs, the second as launched but not recorded
        (final,) = [m for m in planned.site.notifications() if m["subject"].endswith("failed")]
        assert jobs[0] in final["message"] and f"Launch job(s) {jobs[1]} of this execution" in final["message"]
        assert "At most 1 later wave(s)" in final["message"]


@pytest.mark.parametrize(
    ("waves", "words"),
    [
        ([{"name": "web", "machines": ["WebServer"]}], "in no wave: DBServer, AppServer"),
        (
            [
                {"name": "database", "machines": ["DBServer", "AppServer"]},
                {"name": "web", "machines": ["WebServer", "Typo"]},
            ],
            "not among the machines to recover: Typo",
        ),
    ],
    ids=["only-web", "typo"],
)
def test_a_plan_of_all_machines_is_checked_against_the_machines_found_before_any_launch(
    env: LocalFailoverEnvironment, waves: list[dict[str, object]], words: str
) -> None:
    # Given machines "all" with named waves (found by the red team: waves that left machines out
    # recovered only some of them, and a typo failed after the first wave had launched)
    env.reset_site("three-tier")
    with env.reconfigured({"drAutopilot": {"machines": "all", "waves": waves}}) as planned:
        # When on-call starts a recovery
        result = planned.executions.run({"requestedBy": "alice"})
        # Then it is refused at the replication check, naming the machines, with nothing launched
        assert result.status == "FAILED" and result.error == "WavePlanInvalid", result.cause
        assert words in (result.cause or "")
        assert planned.provider.launches_accepted == 0 and planned.site.record_values() == [PRIMARY_ADDRESS]


@pytest.mark.parametrize("provider_name", [pytest.param("drs", marks=pytest.mark.drs_environment)])
def test_a_server_retagged_between_waves_stops_the_plan(env: LocalFailoverEnvironment) -> None:
    # Given the three-tier plan by Role tags, its database wave launched
    env.reset_site("three-tier")
    with env.reconfigured({}) as planned:
        planned.aws.runtime.stall(StateName.CHECK_WAVE, seconds=60)  # the plan waits there meanwhile
        arn = planned.executions.start({"requestedBy": "alice"})
        planned.executions.wait_until_entered(arn, StateName.CHECK_WAVE)
        # When someone retags the database server into the web wave (found by the red team: the
        # web wave then launched the database a second time)
        drs = boto3.client(
            "drs",
            endpoint_url=planned.provider.emulator.base_url,
            region_name="eu-west-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        servers = drs.describe_source_servers(filters={})["items"]
        db = next(s for s in servers if s["sourceProperties"]["identificationHints"]["hostname"] == "DBServer")
        drs.tag_resource(resourceArn=db["arn"], tags={"Role": "webserver"})
        planned.aws.runtime.disarm()
        result = planned.executions.wait(arn)
        # Then the plan stops before launching anything more, naming the moved server; DNS unchanged
        assert result.status == "FAILED" and result.error == "WavePlanInvalid", result.cause
        assert planned.provider.launches_accepted == 1
        assert "DBServer" in (result.cause or "") and planned.site.record_values() == [PRIMARY_ADDRESS]


@pytest.mark.parametrize("provider_name", [pytest.param("drs", marks=pytest.mark.drs_environment)])
@pytest.mark.parametrize(
    ("waves", "words"),
    [
        (
            [
                {"name": "database", "tags": {"Role": "database"}, "check": {"machine": "DBServr"}},
                {"name": "application", "tags": {"Role": "application"}},
                {"name": "web", "tags": {"Role": "webserver"}},
            ],
            "database probes DBServr",
        ),
        (
            [
                {"name": "database", "tags": {"Role": "database"}},
                {"name": "cache", "tags": {"Role": "cache"}},
                {"name": "rest", "tags": {"Site": "workshop"}},
            ],
            "waves that select no machine: cache",
        ),
    ],
    ids=["check-typo", "empty-wave"],
)
def test_a_tag_plan_with_holes_is_refused_by_a_dry_run_too(
    env: LocalFailoverEnvironment, waves: list[dict[str, object]], words: str
) -> None:
    env.reset_site("three-tier")
    with env.reconfigured({"drAutopilot": {"waves": waves}}) as planned:
        dry = planned.executions.run({"requestedBy": "alice", "dryRun": True})
        assert dry.status == "FAILED" and dry.error == "WavePlanInvalid" and words in (dry.cause or "")
        assert planned.provider.launches_accepted == 0


def test_a_drill_in_waves_stops_before_its_next_wave_once_a_recovery_started(env: LocalFailoverEnvironment) -> None:
    # Given a drill of the three-tier plan, held at its first wave's check (found by the red team:
    # its later waves replaced the targets of a recovery started meanwhile, and its clean-up removed them)
    env.reset_site("three-tier")
    with env.reconfigured({}) as planned:
        planned.aws.runtime.stall(StateName.CHECK_WAVE, seconds=120)
        drill = planned.executions.start({"mode": "drill", "requestedBy": "bob"})
        planned.executions.wait_until_entered(drill, StateName.CHECK_WAVE)
        # When the primary fails for real and a recovery runs to its end meanwhile
        recovery = planned.executions.run({"requestedBy": "alice"})
        assert recovery.status == "SUCCEEDED", recovery.cause
        recovered = {job: planned.provider.running_instances(job) for job in planned.provider.launch_job_ids()[1:]}
        planned.aws.runtime.release_stalls()
        result = planned.executions.wait(drill, end_hold_as="bob")
        # Then the drill stopped before its next wave, naming the recovery, and launched nothing more
        assert result.status == "FAILED" and result.error == "RecoveryStarted", result.cause
        assert planned.provider.launch_kinds() == ["drill", "recovery", "recovery", "recovery"]
        # And every instance of the recovery still runs, and the site record points at it
        assert {job: planned.provider.running_instances(job) for job in recovered} == recovered
        assert recovery.output is not None and planned.site.record_values() == [recovery.output["recoveredAddress"]]
        # And the drill's one final message says it was not cleaned up
        (final,) = [m for m in planned.site.notifications() if m["subject"] == "[DR Autopilot] drill failed"]
        assert "The drill was NOT cleaned up" in final["message"]
