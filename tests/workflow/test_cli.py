"""The operator CLI against the local drill environment: status, failover --watch, report, approve."""

from __future__ import annotations

import io
import json
import re
import threading
import time

import pytest
from dr_autopilot.providers.cloudendure.client import CloudEndureClient

from dr_autopilot_cli.main import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Backend, main
from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.events import alarm_event

pytestmark = pytest.mark.workflow


def backend(env: LocalFailoverEnvironment) -> Backend:
    assert env.deployment is not None and env.config is not None
    client = CloudEndureClient(api_token=lambda: env.emulator.api_token, base_url=env.emulator.base_url)
    return Backend(env.aws.client("stepfunctions"), env.deployment.state_machine_arn, env.config, client)


def cli(env: LocalFailoverEnvironment, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), backend=backend(env), out=out)
    return code, out.getvalue()


def test_status_lists_machines_and_readiness(site: LocalFailoverEnvironment) -> None:
    code, text = cli(site, "status")
    assert code == EXIT_OK
    assert re.search(r"DBServer\s+STARTED\s+\d+ s\s+yes", text) and "2 of 2 machines ready" in text
    site.reset_site("lagging")
    code, text = cli(site, "--json", "status")
    rows = {row["name"]: row for row in json.loads(text)}
    assert code == EXIT_FAILED and rows["DBServer"]["ready"] is False and rows["WebServer"]["ready"] is True


def test_failover_watch_then_report(site: LocalFailoverEnvironment) -> None:
    # When on-call starts a failover from the CLI and watches it (output not a terminal: plain lines)
    code, text = cli(site, "failover", "--watch", "--requested-by", "alice", "--reason", "primary down")
    # Then the progress shows phases and job-log lines, and ends with the summary headline
    assert code == EXIT_OK, text
    assert "job log |" in text and "Finished starting converters" in text
    entered = re.findall(r"^\s+\d+\.\ds  (\w+)$", text, re.MULTILINE)
    assert entered == ["lock", "replication", "launch", "job", "targets", "health", "dns", "report"]
    assert f"www.example.com switched {PRIMARY_ADDRESS} ->" in text
    # And the report shows each phase and the RTO against the objective
    (arn,) = [
        e["executionArn"]
        for e in site.aws.client("stepfunctions").list_executions(stateMachineArn=backend(site).state_machine_arn)[
            "executions"
        ]
        if e["name"].startswith("cli-")
    ][-1:]
    code, text = cli(site, "report", arn)
    assert code == EXIT_OK
    assert re.search(r"RTO \d+\.\d s, objective 1800 s: within objective", text)
    assert re.search(r"^job\s+\d+\.\d$", text, re.MULTILINE)
    code, text = cli(site, "--json", "report", arn)
    figures = json.loads(text)
    assert figures["status"] == "SUCCEEDED" and figures["within_objective"] is True and figures["rto_seconds"] > 0


def test_failed_failover_exits_non_zero_with_the_cause(site: LocalFailoverEnvironment) -> None:
    site.reset_site("lagging")
    code, text = cli(site, "failover", "--watch")
    assert code == EXIT_FAILED and "ReplicationNotReady" in text and "DBServer" in text


def test_dry_run_from_the_cli_changes_nothing(site: LocalFailoverEnvironment) -> None:
    code, text = cli(site, "--json", "failover", "--dry-run", "--watch")
    assert code == EXIT_OK and json.loads(text.splitlines()[-1])["summary"]["outcome"] == "DRY_RUN"
    assert site.emulator.account.launches_accepted == 0


def test_usage_errors_exit_2(site: LocalFailoverEnvironment) -> None:
    assert cli(site, "approve")[0] == EXIT_USAGE
    with pytest.raises(SystemExit):
        cli(site, "failover", "--mode", "failback")


def test_approve_from_the_cli_by_execution(environment: LocalFailoverEnvironment) -> None:
    environment.reset_site("two-tier")
    overrides = {"drAutopilot": {"trigger": {"approval": "approve", "approvalTimeoutSeconds": 30}}}
    with environment.reconfigured(overrides) as env:
        (arn,) = env.deliver_event(alarm_event("www-example-com-down"))
        deadline = time.monotonic() + 20
        while not any(e.get("taskScheduledEventDetails") for e in env.history(arn)) and time.monotonic() < deadline:
            time.sleep(0.2)
        code, text = cli(env, "approve", arn, "--by", "alice")
        assert code == EXIT_OK and "approved" in text
        result = env.wait(arn)
        assert (
            result.status == "SUCCEEDED"
            and result.state_outputs("WaitForApproval")[-1]["approval"]["approvedBy"] == "alice"
        )


def test_watch_draws_a_progress_line_on_a_terminal(site: LocalFailoverEnvironment) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    arn = site.start_execution({"requestedBy": "alice"})
    out = Terminal()
    thread = threading.Thread(target=lambda: main(["watch", arn], backend=backend(site), out=out))
    thread.start()
    thread.join(timeout=60)
    assert "\r\033[K[" in out.getvalue() and "####" in out.getvalue()
