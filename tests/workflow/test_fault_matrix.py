"""Every fault of the matrix, executed: survived within bounds, or failed loudly with a named
error, DNS unchanged, at most one launch and an SNS message giving the cause. Never silent."""

from __future__ import annotations

import pytest

from local.environment import LocalFailoverEnvironment
from local.faults import FAULT_MATRIX, FaultCase, Outcome, run_case

pytestmark = pytest.mark.workflow


@pytest.mark.parametrize("case", FAULT_MATRIX, ids=[case.name for case in FAULT_MATRIX])
def test_fault(env: LocalFailoverEnvironment, case: FaultCase) -> None:
    # Given one fault of the matrix prepared in the environment (scenario, emulator, AWS or Lambda faults)
    # When a failover runs into it and is judged
    result, verdict = run_case(env, case)
    # Then it survived or failed loudly, as the matrix expects, with no problem found
    assert verdict.outcome is case.expected, (verdict.problems, result.error, result.cause)
    assert not verdict.problems, verdict.problems
    # And it launched at most once (exactly once if it survived) and never pointed DNS at an unhealthy site
    assert verdict.launches <= 1 if case.expected is Outcome.FAILED_LOUDLY else verdict.launches == 1
    assert not verdict.dns_changed_to_unhealthy
