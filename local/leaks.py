"""Where a secret could leak in a local run, and a scan of all of it for the secret's value."""

from __future__ import annotations

import json
from dataclasses import dataclass

from local.environment import LocalFailoverEnvironment


@dataclass
class LeakScan:
    places: dict[str, int]  # where we looked -> how many texts
    hits: list[str]  # "place: excerpt" for every text containing the secret

    @property
    def texts(self) -> int:
        return sum(self.places.values())


def scan(secret: str, texts: dict[str, list[str]]) -> LeakScan:
    hits = []
    for place, items in texts.items():
        for text in items:
            at = text.find(secret)
            if at >= 0:
                hits.append(f"{place}: ...{text[max(0, at - 40) : at]}<SECRET>...")
    return LeakScan({place: len(items) for place, items in texts.items()}, hits)


def everything_recorded(
    env: LocalFailoverEnvironment, messages: list[dict[str, str]], extra: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """Every log line of every function, every SNS message, every execution history event."""
    assert env.deployment is not None
    states = env.aws.client("stepfunctions")
    histories = []
    for machine in states.list_state_machines()["stateMachines"]:
        for execution in states.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
            histories += [json.dumps(event, default=str) for event in env.executions.history(execution["executionArn"])]
    return {
        "function logs": env.aws.runtime.logs(),
        "function errors": [json.dumps(i.__dict__, default=str) for i in env.aws.runtime.invocations if i.error_type],
        "SNS messages": [m["subject"] + "\n" + m["message"] for m in messages],
        "execution history": histories,
        **(extra or {}),
    }
