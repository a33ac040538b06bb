"""The approval gate for alarm-started failovers, in an environment synthesized with
trigger.approval = approve: approve -> proceeds; reject -> stops before launch; timeout -> per
configuration (abort here, proceed in the second environment)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.events import alarm_event

pytestmark = pytest.mark.workflow
SITE_ALARM = "www-example-com-down"


def gated(on_timeout: str, timeout_seconds: int) -> dict[str, object]:
    trigger = {"approval": "approve", "approvalTimeoutSeconds": timeout_seconds, "onApprovalTimeout": on_timeout}
    return {"drAutopilot": {"trigger": trigger}}


@pytest.fixture(scope="module")
def approval_stack(environment: LocalFailoverEnvironment) -> Iterator[LocalFailoverEnvironment]:
    """The stack synthesized with trigger.approval = approve, deployed beside the default one."""
    with environment.reconfigured(gated("abort", timeout_seconds=120)) as env:
        yield env


@pytest.fixture
def approval_site(approval_stack: LocalFailoverEnvironment) -> LocalFailoverEnvironment:
    approval_stack.reset_site("two-tier")
    return approval_stack


def approval_token(env: LocalFailoverEnvironment, timeout: float = 20) -> str:
    """Read the task token from the SNS approval request, as on-call staff would."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in env.site.notifications():
            if message["subject"].endswith("approval needed"):
                found = re.search(r"approve --token '([^']+)'", message["message"])
                assert found, message["message"]
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no approval request was published")


def test_approved_alarm_failover_proceeds(approval_site: LocalFailoverEnvironment) -> None:
    # Given an alarm started a failover and on-call received the approval request
    (arn,) = approval_site.executions.deliver_event(alarm_event(SITE_ALARM))
    token = approval_token(approval_site)
    # And the failover holds at the gate
    assert approval_site.emulator.account.launches_accepted == 0  # nothing before approval
    # When on-call approves it
    approval_site.aws.client("stepfunctions").send_task_success(taskToken=token, output='{"approvedBy": "alice"}')
    result = approval_site.executions.wait(arn)
    # Then the failover runs to success with one launch
    assert result.status == "SUCCEEDED", result.cause
    assert approval_site.emulator.account.launches_accepted == 1


def test_rejected_alarm_failover_stops_before_launch(approval_site: LocalFailoverEnvironment) -> None:
    # Given an alarm started a failover and on-call received the approval request
    (arn,) = approval_site.executions.deliver_event(alarm_event(SITE_ALARM))
    token = approval_token(approval_site)
    # When on-call rejects it because the primary is back
    approval_site.aws.client("stepfunctions").send_task_failure(
        taskToken=token, error="ApprovalRejected", cause="the primary is back"
    )
    result = approval_site.executions.wait(arn)
    # Then the run fails as ApprovalRejected
    assert result.status == "FAILED" and result.error == "ApprovalRejected"
    # And nothing was launched and DNS still points at the primary
    assert approval_site.emulator.account.launches_accepted == 0
    assert approval_site.site.record_values() == [PRIMARY_ADDRESS]


def test_console_started_failover_skips_the_gate(approval_site: LocalFailoverEnvironment) -> None:
    # Given a stack that asks approval for alarm-started failovers
    # When on-call starts a failover from the console
    result = approval_site.executions.run({"requestedBy": "alice"})
    # Then it succeeds without waiting for approval
    assert result.status == "SUCCEEDED" and "WaitForApproval" not in result.entered_states


@pytest.mark.parametrize(("on_timeout", "status", "launches"), [("abort", "FAILED", 0), ("proceed", "SUCCEEDED", 1)])
def test_unanswered_approval_follows_the_configuration(
    environment: LocalFailoverEnvironment, on_timeout: str, status: str, launches: int
) -> None:
    # Given a stack whose approval request expires after ten seconds (one on the local interpreter clock), configured to abort or to proceed
    environment.reset_site("two-tier")
    with environment.reconfigured(gated(on_timeout, timeout_seconds=10)) as env:
        # When an alarm starts a failover and nobody answers the approval request
        (arn,) = env.executions.deliver_event(alarm_event(SITE_ALARM))
        result = env.executions.wait(arn)
        # Then the run ends as configured: abort fails with no launch, proceed succeeds with one
        assert result.status == status, result.cause
        assert env.emulator.account.launches_accepted == launches
        # And an aborted run names the expired approval
        if on_timeout == "abort":
            assert result.error == "ApprovalTimedOut"
