"""The shipped CLI does not lean on the local test harness."""

from __future__ import annotations

import subprocess
import sys

from dr_autopilot import history

from local.environment import PROJECT_ROOT


def test_importing_the_cli_loads_no_local_module() -> None:
    # Given a fresh interpreter
    # When it imports the CLI, timing every import
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-X", "importtime", "-c", "import dr_autopilot_cli.main"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line]
    # Then it imported the product (so the check sees real imports) and nothing of the harness
    assert "dr_autopilot_cli.main" in imported and "dr_autopilot.history" in imported
    assert [name for name in imported if name == "local" or name.startswith("local.")] == []


def test_a_lambda_error_cause_is_shown_without_its_stack_trace() -> None:
    # Given the cause Step Functions records for a Lambda error, stack trace included
    cause = '{"errorType": "JobFailed", "errorMessage": "launch job j-1 FAILED", "stackTrace": ["  File x"]}'
    # When the CLI or the drill shows it
    # Then on-call reads the message only; any other cause is shown as it is
    assert history.error_message(cause) == "launch job j-1 FAILED"
    assert history.error_message("nobody approved within 2 s") == "nobody approved within 2 s"
    assert history.error_message(None) == ""
