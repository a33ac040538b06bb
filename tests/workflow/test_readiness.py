"""Continuous readiness, end to end: the run the schedule starts (its input read from the
synthesized schedule), its verdict, its metrics and its one message, on both providers."""

from __future__ import annotations

import pytest
from dr_autopilot.clients.lock import LOCK_IDS
from dr_autopilot.models import Mode
from dr_autopilot.observability import NAMESPACE, ReadinessMetric

from local.environment import PRIMARY_ADDRESS, ExecutionResult, LocalFailoverEnvironment
from tests.workflow.conftest import ON_BOTH_PROVIDERS

pytestmark = pytest.mark.workflow


def readiness_run(env: LocalFailoverEnvironment) -> tuple[ExecutionResult, dict[str, float]]:
    """Start the run exactly as the schedule would; its metrics by name (as the functions emitted them)."""
    since = len(env.aws.runtime.invocations)
    result = env.executions.run(env.executions.scheduled_input())
    metrics = {
        metric.name: metric.value
        for metric in env.aws.runtime.metrics(since)
        if metric.namespace == NAMESPACE and metric.name in set(ReadinessMetric)
    }
    return result, metrics


def assert_nothing_changed(env: LocalFailoverEnvironment) -> None:
    assert env.provider.launches_accepted == 0
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    assert env.site.lock_holder(LOCK_IDS[Mode.RECOVERY]) is None
    assert env.site.lock_holder(LOCK_IDS[Mode.DRILL]) is None


@ON_BOTH_PROVIDERS
def test_a_lagging_site_is_not_ready_and_the_one_message_names_the_lagging_machine(
    env: LocalFailoverEnvironment,
) -> None:
    # Given a site whose DBServer lags far behind
    env.reset_site("lagging")
    # When the schedule's readiness run runs
    result, metrics = readiness_run(env)
    # Then the run ends with its verdict (not as a failed execution): not ready
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert result.output is not None and result.output["outcome"] == "NOT_READY"
    # And the functions emitted FailoverReady 0, with the machines that are ready and the lag
    assert metrics[ReadinessMetric.FAILOVER_READY] == 0
    assert metrics[ReadinessMetric.READY_MACHINES] == 1
    assert metrics[ReadinessMetric.MAX_REPLICATION_LAG] > env.config.replication.max_lag_seconds
    # And on-call got exactly one message, which names the lagging machine and why
    messages = env.site.notifications()
    assert [m["subject"] for m in messages] == ["[DR Autopilot] recovery not ready"]
    assert "DBServer: " in messages[0]["message"] and "lag" in messages[0]["message"]
    assert "WebServer: " not in messages[0]["message"]
    # And nothing was launched, DNS is unchanged and no lock was taken
    assert_nothing_changed(env)


@ON_BOTH_PROVIDERS
def test_a_replicating_site_is_ready_and_the_run_changes_nothing(env: LocalFailoverEnvironment) -> None:
    # Given the two-tier site, replicating
    # When the schedule's readiness run runs
    result, metrics = readiness_run(env)
    # Then it is ready, FailoverReady is 1 with both machines ready
    assert result.status == "SUCCEEDED" and result.output is not None
    assert result.output["outcome"] == "READY"
    assert metrics[ReadinessMetric.FAILOVER_READY] == 1
    assert metrics[ReadinessMetric.READY_MACHINES] == 2
    # And its one message says so; nothing was launched, DNS unchanged, no lock taken
    assert [m["subject"] for m in env.site.notifications()] == ["[DR Autopilot] recovery ready"]
    assert_nothing_changed(env)


def test_a_readiness_run_never_blocks_or_delays_a_failover(env: LocalFailoverEnvironment) -> None:
    # Given a readiness run started by the schedule, and a real failover started at the same moment
    readiness = env.executions.start(env.executions.scheduled_input())
    failover = env.executions.start({"requestedBy": "alice", "reason": "primary down"})
    # When both end
    failover_result = env.executions.wait(failover)
    readiness_result = env.executions.wait(readiness)
    # Then the failover took the lock and switched DNS, with one launch; the readiness run is ready
    assert failover_result.status == "SUCCEEDED", (failover_result.error, failover_result.cause)
    assert env.site.record_values() != [PRIMARY_ADDRESS]
    assert env.provider.launches_accepted == 1
    assert env.site.lock_holder(LOCK_IDS[Mode.RECOVERY]) == failover
    assert readiness_result.status == "SUCCEEDED" and readiness_result.output is not None
    assert readiness_result.output["outcome"] == "READY"


def test_the_last_verdict_is_kept_for_the_status_command(env: LocalFailoverEnvironment) -> None:
    # Given a lagging site
    env.reset_site("lagging")
    # When the readiness run runs
    result, _ = readiness_run(env)
    # Then the lock table keeps its verdict: not ready, which machine, and which execution
    item = (
        env.aws.client("dynamodb").get_item(TableName=env.site.lock_table, Key={"id": {"S": "readiness"}}).get("Item")
    )
    assert item is not None
    assert '"ready":false' in item["verdict"]["S"] and "DBServer" in item["verdict"]["S"]
    assert result.arn in item["verdict"]["S"]
