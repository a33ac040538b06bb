"""The CloudEndure API token lives only in Secrets Manager: a full drill, a failed run, a
duplicate alarm and the CLI leave it in no log line, SNS message, history event or output."""

from __future__ import annotations

import pytest

from local.environment import LocalFailoverEnvironment
from local.events import alarm_event
from local.leaks import everything_recorded, scan
from tests.workflow.test_cli import cli

pytestmark = pytest.mark.workflow


def test_the_api_token_appears_nowhere(env: LocalFailoverEnvironment) -> None:
    token = env.emulator.api_token
    # Given the token is where it belongs
    assert (
        env.aws.client("secretsmanager").get_secret_value(SecretId="dr-autopilot/cloudendure-api-token")["SecretString"]
        == token
    )
    messages, outputs = [], []
    # When a full failover, an alarm duplicate, a refused failover and the CLI all run
    assert env.executions.run({"requestedBy": "alice"}).status == "SUCCEEDED"
    env.executions.wait(env.executions.deliver_event(alarm_event("www-example-com-down"))[0])
    messages += env.site.notifications()
    env.reset_site("lagging")
    assert env.executions.run({}).status == "FAILED"
    for argv in (["status"], ["--json", "status"], ["failover", "--watch"]):
        outputs.append(cli(env, *argv)[1])
    messages += env.site.notifications()
    recorded = everything_recorded(env, messages, {"CLI output": outputs})
    # Then the scan covered every place, and found the token in none
    result = scan(token, recorded)
    assert all(count > 0 for count in result.places.values()), result.places
    assert result.hits == []
    # And the scan does find a token where one is
    planted = scan(token, {**recorded, "function logs": [*recorded["function logs"], f"debug: login with {token}"]})
    assert len(planted.hits) == 1
