"""`dr-autopilot --local`: the CLI's commands against a local drill environment started for the
command. The CLI imports this module only when --local is given."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dr_autopilot.providers.cloudendure.client import CloudEndureClient

from dr_autopilot_cli.main import Backend
from local.environment import LocalFailoverEnvironment


def backend_for(env: LocalFailoverEnvironment) -> Backend:
    """The CLI's view of a started local environment."""
    assert env.deployment is not None and env.config is not None  # started
    client = CloudEndureClient(api_token=lambda: env.emulator.api_token, base_url=env.emulator.base_url)
    return Backend(
        env.aws.client("stepfunctions"),
        env.deployment.state_machine_arn,
        env.config,
        client,
        lock_table=env.site.lock_table,
        dynamodb=env.aws.client("dynamodb"),
    )


@contextlib.contextmanager
def local_backend(scenario: str) -> Iterator[Backend]:
    with LocalFailoverEnvironment(scenario) as env:
        yield backend_for(env)
