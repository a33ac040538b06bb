"""The operator CLI against the local drill environment: status, failover --watch, report, approve."""

from __future__ import annotations

import io
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from dr_autopilot.states import PHASES, StateName

from dr_autopilot_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Backend, main
from local.cli_backend import backend_for
from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.events import alarm_event

pytestmark = pytest.mark.workflow


def backend(env: LocalFailoverEnvironment) -> Backend:
    return backend_for(env)


def cli(env: LocalFailoverEnvironment, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), backend=backend(env), out=out)
    return code, out.getvalue()


def test_status_lists_machines_and_readiness(env: LocalFailoverEnvironment) -> None:
    # Given both machines replicate continuously
    # When on-call asks for the status
    code, text = cli(env, "status")
    # Then every machine is listed with its state, lag and readiness, and the exit code says all are ready
    assert code == EXIT_OK
    assert re.search(r"DBServer\s+STARTED\s+\d+ s\s+yes", text) and "2 of 2 machines ready" in text
    # And when the database server falls behind, the JSON status marks it not ready and exits non-zero
    env.reset_site("lagging")
    code, text = cli(env, "--json", "status")
    rows = {row["name"]: row for row in json.loads(text)["machines"]}
    assert code == EXIT_FAILED and rows["DBServer"]["ready"] is False and rows["WebServer"]["ready"] is True


def test_status_shows_the_last_readiness_verdict_and_its_time(env: LocalFailoverEnvironment) -> None:
    # Given no readiness run has reported yet
    # When on-call asks for the status, Then it says there is no verdict yet
    code, text = cli(env, "status")
    assert code == EXIT_OK and "Last readiness verdict: none yet (the schedule runs every 60 minutes)" in text
    assert json.loads(cli(env, "--json", "status")[1])["lastReadiness"] is None
    # Given the database server falls behind and the schedule's readiness run has run
    env.reset_site("lagging")
    result = env.executions.run(env.executions.scheduled_input())
    # When on-call asks for the status
    code, text = cli(env, "status")
    # Then it shows the verdict, when it was reached, the run, and the lagging machine (and the
    # exit code still speaks of the machines, as before)
    assert code == EXIT_FAILED
    (line,) = [line for line in text.splitlines() if line.startswith("Last readiness verdict")]
    assert re.match(
        rf"Last readiness verdict: NOT READY at \d{{4}}-\d\d-\d\dT[\d:]+\+00:00 \({result.name}\): DBServer: lag", line
    )
    # And --json carries the same verdict
    verdict = json.loads(cli(env, "--json", "status")[1])["lastReadiness"]
    assert verdict["ready"] is False and verdict["executionId"] == result.arn and verdict["readyMachines"] == 1
    assert any("DBServer" in reason for reason in verdict["reasons"])


def test_failover_watch_then_report(env: LocalFailoverEnvironment, tmp_path: Path) -> None:
    # Given the primary is down and both machines replicate continuously
    # When on-call starts a failover from the CLI and watches it (output not a terminal: plain lines)
    code, text = cli(env, "failover", "--watch", "--requested-by", "alice", "--reason", "primary down")
    # Then the progress shows phases and job-log lines, and ends with the summary headline
    assert code == EXIT_OK, text
    assert "job log |" in text and "Finished starting converters" in text
    entered = re.findall(r"^\s+\d+\.\ds  ([\w-]+)$", text, re.MULTILINE)
    assert entered == [phase.key for phase in PHASES[1:] if not (phase.drill_only or phase.plan_only)]
    assert f"www.example.com switched {PRIMARY_ADDRESS} ->" in text
    # And the report shows each phase and the RTO against the objective
    (arn,) = [
        e["executionArn"]
        for e in env.aws.client("stepfunctions").list_executions(stateMachineArn=backend(env).state_machine_arn)[
            "executions"
        ]
        if e["name"].startswith("cli-")
    ][-1:]
    code, text = cli(env, "report", arn)
    assert code == EXIT_OK
    assert re.search(r"RTO \d+\.\d s, objective 1800 s: within objective", text)
    assert re.search(r"^job\s+\d+\.\d$", text, re.MULTILINE)
    code, text = cli(env, "--json", "report", arn)
    figures = json.loads(text)
    assert figures["status"] == "SUCCEEDED" and figures["within_objective"] is True and figures["rto_seconds"] > 0
    # And --html writes the same report as a page whose timeline has one bar per phase, in order
    page = tmp_path / "failover.html"
    code, _ = cli(env, "report", arn, "--html", str(page))
    (svg,) = re.findall(r"<svg.*?</svg>", page.read_text(), flags=re.DOTALL)
    drawn = [r.get("data-phase") for r in ET.fromstring(svg).iter() if r.get("class") == "phase"]  # noqa: S314
    assert code == EXIT_OK and drawn == [key for key, _ in figures["phases"]]
    assert drawn == [p.key for p in PHASES if not (p.drill_only or p.plan_only)]


def test_failed_failover_exits_non_zero_with_the_cause(env: LocalFailoverEnvironment) -> None:
    # Given the database server is far behind
    env.reset_site("lagging")
    # When on-call starts a failover from the CLI and watches it
    code, text = cli(env, "failover", "--watch")
    # Then the CLI exits non-zero, naming the error and the machine that is not ready
    assert code == EXIT_FAILED and "ReplicationNotReady" in text and "DBServer" in text


def test_dry_run_from_the_cli_changes_nothing(env: LocalFailoverEnvironment) -> None:
    # Given the primary is down and both machines replicate continuously
    # When on-call asks for a dry run from the CLI, as JSON, and watches it
    code, text = cli(env, "--json", "failover", "--dry-run", "--watch")
    # Then it exits OK and the final summary is a dry run
    assert code == EXIT_OK and json.loads(text.splitlines()[-1])["summary"]["outcome"] == "DRY_RUN"
    # And nothing was launched
    assert env.emulator.account.launches_accepted == 0


def test_usage_errors_exit_2(env: LocalFailoverEnvironment) -> None:
    # Given on-call does not say which execution to approve
    # When they run approve
    # Then the CLI exits with the usage code, 2
    assert cli(env, "approve")[0] == EXIT_USAGE
    # And a mode the workflow does not know is refused by the argument parser
    with pytest.raises(SystemExit) as exited:
        cli(env, "failover", "--mode", "failback")
    assert exited.value.code == EXIT_USAGE


def test_an_execution_that_does_not_exist_is_a_usage_error(env: LocalFailoverEnvironment) -> None:
    # Given an execution ARN with a typo
    arn = backend(env).state_machine_arn.replace(":stateMachine:", ":execution:") + ":no-such-run"
    # When on-call asks for its report
    code, _ = cli(env, "report", arn)
    # Then it is a usage problem (exit 2), not "AWS unreachable" (exit 3)
    assert code == EXIT_USAGE


def test_approve_from_the_cli_by_execution(environment: LocalFailoverEnvironment) -> None:
    # Given a stack that asks approval for alarm-started failovers, and an alarm-started failover
    # waiting at the gate
    environment.reset_site("two-tier")
    overrides = {"drAutopilot": {"trigger": {"approval": "approve", "approvalTimeoutSeconds": 300}}}
    with environment.reconfigured(overrides) as env:
        (arn,) = env.executions.deliver_event(alarm_event("www-example-com-down"))
        deadline = time.monotonic() + 20
        while (
            not any(e.get("taskScheduledEventDetails") for e in env.executions.history(arn))
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        # When on-call approves it from the CLI by its execution ARN
        code, text = cli(env, "approve", arn, "--by", "alice")
        # Then the CLI confirms the approval
        assert code == EXIT_OK and "approved" in text
        # And the failover succeeds, recording alice as the approver
        result = env.executions.wait(arn)
        assert (
            result.status == "SUCCEEDED"
            and result.state_outputs(StateName.WAIT_FOR_APPROVAL)[-1]["approval"]["approvedBy"] == "alice"
        )


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_watch_draws_a_live_progress_display_on_a_terminal(env: LocalFailoverEnvironment) -> None:
    # Given a failover running and a terminal to watch it on
    arn = env.executions.start({"requestedBy": "alice"})
    out = Terminal()
    # When on-call watches it
    thread = threading.Thread(target=lambda: main(["watch", arn], backend=backend(env), out=out))
    thread.start()
    thread.join(timeout=60)
    text = out.getvalue()
    # Then a live display redraws in place (cursor movements), with the phase bar and the job log beneath it
    assert "\x1b[" in text and "━" in text and "job log" in text
    # (the panel keeps the newest lines; how many phases a look sees depends on the machine's speed)
    assert "Job finished" in text and f"{len(PHASES)}/{len(PHASES)}" in text
    # And the end is the summary headline
    assert f"www.example.com switched {PRIMARY_ADDRESS} ->" in text.splitlines()[-1]


def test_status_and_report_draw_tables_on_a_terminal(env: LocalFailoverEnvironment) -> None:
    # Given a finished failover
    result = env.executions.run({"requestedBy": "alice"})
    # When on-call asks for the status and the report on a terminal
    status, report = Terminal(), Terminal()
    main(["status"], backend=backend(env), out=status)
    main(["report", result.arn], backend=backend(env), out=report)
    # Then both are tables with the same facts as the plain output
    assert "┏" in status.getvalue() and "Machine" in status.getvalue() and "DBServer" in status.getvalue()
    assert "2 of 2 machines ready" in status.getvalue()
    assert "┏" in report.getvalue() and "Phase" in report.getvalue() and "Wait for the job" in report.getvalue()
    assert "within objective" in report.getvalue()


def test_invalid_failover_input_is_refused_before_anything_starts(env: LocalFailoverEnvironment) -> None:
    # Given on-call mistypes the point in time
    states = env.aws.client("stepfunctions")
    before = len(states.list_executions(stateMachineArn=backend(env).state_machine_arn)["executions"])
    # When the failover is started from the CLI
    code, _ = cli(env, "failover", "--point-in-time", "yesterday")
    # Then it is refused as a usage error and no execution was started
    assert code == EXIT_USAGE
    assert len(states.list_executions(stateMachineArn=backend(env).state_machine_arn)["executions"]) == before


def test_unlock_refuses_while_the_holder_runs_and_removes_a_dead_holders_lock(env: LocalFailoverEnvironment) -> None:
    # Given a recovery that holds the lock and still runs (held at its replication check)
    env.aws.runtime.stall(StateName.CHECK_REPLICATION, seconds=60)
    arn = env.executions.start({"requestedBy": "alice"})
    env.executions.wait_until_entered(arn, StateName.CHECK_REPLICATION)
    # When on-call tries to unlock
    code, _ = cli(env, "unlock")
    # Then it is refused (the lock stays)
    assert code == EXIT_USAGE and env.site.lock_holder() == arn
    # And once the run is aborted and its end event lost, unlock removes the lock and says whose it was
    env.aws.client("stepfunctions").stop_execution(executionArn=arn, error="Stopped", cause="stopped by alice")
    env.executions.wait(arn, deliver_end=False)
    code, text = cli(env, "unlock")
    assert code == EXIT_OK and f"removed the recovery lock of {arn} (ABORTED" in text
    assert env.site.lock_holder() is None
    # And a second unlock has nothing to do
    assert cli(env, "unlock") == (EXIT_OK, "no recovery lock is held: nothing to do\n")
