"""Recovery plans in waves: the three-tier site (DBServer, AppServer, WebServer) recovered wave by
wave, each wave's job created only after the one before completed and passed its check; a middle
wave that fails its check stops the plan before the last wave, with DNS unchanged."""

from __future__ import annotations

import itertools
import json

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
        arn = planned.executions.start({"requestedBy": "alice"})
        planned.executions.wait_until_entered(arn, StateName.CHECK_WAVE)
        planned.aws.runtime.time_out_after_return(StateName.LAUNCH_RECOVERY)
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
