"""Everything checkable before a launch is checked before it, in dry runs as in real runs: each
problem below used to pass a dry run and then fail a real run after everything was launched."""

from __future__ import annotations

import pytest

from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment

pytestmark = pytest.mark.workflow

# One configuration for every case: every machine of the project ("all"), and a record that the
# zone (example.com) does not hold. Each scenario below trips the first check it reaches.
CASES = [
    ("renamed-webserver", {}, "MachineNotFound", "not in project 'DR-Autopilot-Workshop': WebServer"),
    ("empty-project", {}, "MachineNotFound", "has no machines: there is nothing to recover"),
    (
        "duplicate-names",
        {},
        "AmbiguousMachineName",
        "more than one machine in project 'DR-Autopilot-Workshop' is named 'WebServer'",
    ),
    ("two-tier", {"pointInTime": "2001-01-01T00:00:00Z"}, "NoPointInTime", "machine DBServer"),
    ("two-tier", {}, "RecordOutsideZone", "dns.recordName 'www.example.org' is not inside hosted zone example.com"),
]


def test_a_dry_run_refuses_what_a_real_run_would_only_find_after_launching(
    environment: LocalFailoverEnvironment,
) -> None:
    with environment.reconfigured(
        {"drAutopilot": {"machines": "all", "dns": {"recordName": "www.example.org"}}}
    ) as env:
        for scenario, extra_input, error, words in CASES:
            # Given the site in the scenario
            env.reset_site(scenario)
            # When on-call asks for a dry run
            result = env.executions.run({"dryRun": True, "requestedBy": "alice", **extra_input})
            # Then it fails with the named error, saying what is wrong, before any launch
            assert (result.status, result.error) == ("FAILED", error), (scenario, result.cause)
            assert words in (result.cause or ""), (scenario, result.cause)
            assert "LaunchRecovery" not in result.entered_states, scenario
            assert env.emulator.account.launches_accepted == 0, scenario
            assert env.site.record_values(env.site.record_name) in ([], [PRIMARY_ADDRESS]), scenario
            # And on-call is told, in one final message naming the error
            (final,) = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
            assert error in final["message"], scenario
