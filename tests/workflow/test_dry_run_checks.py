"""Everything checkable before a launch is checked before it, in dry runs as in real runs: each
problem below used to pass a dry run and then fail a real run after everything was launched.
The cases are `make reliability`'s for this invariant (local/invariants.py)."""

from __future__ import annotations

import pytest

from local.environment import LocalFailoverEnvironment
from local.invariants import PRE_LAUNCH_CASES, PRE_LAUNCH_OVERRIDES, pre_launch_problem

pytestmark = pytest.mark.workflow


def test_a_dry_run_refuses_what_a_real_run_would_only_find_after_launching(
    environment: LocalFailoverEnvironment,
) -> None:
    # Given a stack for every machine of the project ("all") whose record lies outside the zone
    with environment.reconfigured(PRE_LAUNCH_OVERRIDES) as env:
        for scenario, extra_input, error, words in PRE_LAUNCH_CASES:
            # When on-call asks for a dry run with the site in the scenario
            # Then it fails with the named error, saying what is wrong, before any launch, and one
            # failure message names the error
            assert pre_launch_problem(env, scenario, extra_input, error, words) is None, scenario
