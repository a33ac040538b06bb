"""A function without a setting its state needs fails at once with a configuration error that
names the setting; the workflow does not retry it as if AWS had a bad moment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dr_autopilot.environment import Variable
from dr_autopilot.states import TASK_BY_STATE, StateName

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.lambda_runtime import FunctionSpec

pytestmark = pytest.mark.workflow


@pytest.fixture
def acquire_lock_without_its_table(env: LocalFailoverEnvironment) -> Iterator[FunctionSpec]:
    """AcquireLock deployed without LOCK_TABLE_NAME (restored afterwards)."""
    handler = TASK_BY_STATE[StateName.ACQUIRE_LOCK].handler
    (spec,) = [spec for spec in env.deployment.functions.values() if spec.handler == handler]
    saved = dict(spec.environment)
    del spec.environment[Variable.LOCK_TABLE]
    env.aws.runtime.recycle()
    yield spec
    spec.environment.clear()
    spec.environment.update(saved)
    env.aws.runtime.recycle()


def test_a_missing_lock_table_setting_fails_at_once_naming_it(
    env: LocalFailoverEnvironment, acquire_lock_without_its_table: FunctionSpec
) -> None:
    # Given AcquireLock was deployed without its lock table setting
    # When on-call starts a failover
    result = env.executions.run({"requestedBy": "alice"})
    # Then the run fails with a configuration error that names the setting
    assert result.status == "FAILED" and result.error == "ConfigError"
    failures = [
        event["lambdaFunctionFailedEventDetails"] for event in result.events if event["type"] == "LambdaFunctionFailed"
    ]
    assert [failure["error"] for failure in failures] == ["ConfigError"]
    assert Variable.LOCK_TABLE.value in failures[0]["cause"]
    # And AcquireLock ran once: a configuration error is not retried
    assert result.entered_states.count(StateName.ACQUIRE_LOCK) == 1
    scheduled = [e for e in result.events if e["type"] == "LambdaFunctionScheduled"]
    assert len(scheduled) == 3  # ValidateInput, AcquireLock once, ReportFailure
    # And nothing was launched, DNS is unchanged, and on-call was told why
    assert env.emulator.account.launches_accepted == 0
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    (message,) = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    assert "ConfigError" in message["message"] and Variable.LOCK_TABLE.value in message["message"]
