"""EventBridge, as far as the alarm rule needs it: match an event against the synthesized rule's
pattern and build the state machine input with the rule target's input transformer.

moto's EventBridge does not start state machines (and answers TestEventPattern without a
result), so the local environment delivers events through this instead. Only the pattern
features the project's rule uses are implemented; anything else raises, so a pattern this code
does not understand can never be treated as a match.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any


class UnsupportedPattern(ValueError):
    """The pattern uses an EventBridge feature this matcher does not implement."""


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    """EventBridge semantics for exact values: every key of the pattern must match; a list means
    'any of these values'; a nested object matches the nested event object."""
    for key, expected in pattern.items():
        if key not in event:
            return False
        actual = event[key]
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif isinstance(expected, list):
            if any(isinstance(option, dict) for option in expected):
                raise UnsupportedPattern(f"content filters such as {expected} are not implemented locally")
            values = actual if isinstance(actual, list) else [actual]
            if not any(value in expected for value in values):
                return False
        else:
            raise UnsupportedPattern(f"pattern value for {key!r} must be a list or an object")
    return True


def _path(event: dict[str, Any], path: str) -> Any:
    if not path.startswith("$"):
        raise UnsupportedPattern(f"input path {path!r} must start with $")
    value: Any = event
    for part in [p for p in path[1:].split(".") if p]:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def transform(transformer: dict[str, Any], event: dict[str, Any]) -> str:
    """Apply an InputTransformer: each <name> in the template becomes the JSON of its path's value."""
    values = {name: _path(event, path) for name, path in transformer.get("InputPathsMap", {}).items()}
    template = transformer["InputTemplate"]
    rendered = re.sub(
        r"<([\w-]+)>", lambda m: json.dumps(values[m.group(1)]) if m.group(1) in values else m.group(0), template
    )
    json.loads(rendered)  # the transformer must produce JSON, as EventBridge requires for a state machine
    return rendered


def alarm_event(
    name: str,
    state: str = "ALARM",
    reason: str = "Threshold Crossed",
    time: str = "2026-11-25T02:59:00Z",
    account: str = "123456789012",
    region: str = "eu-west-1",
) -> dict[str, Any]:
    """A 'CloudWatch Alarm State Change' event as CloudWatch sends it to EventBridge."""
    return {
        "version": "0",
        "id": "c4c1c1c9-6542-e61b-6ef0-8c4d36933a92",
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": account,
        "time": time,
        "region": region,
        "resources": [f"arn:aws:cloudwatch:{region}:{account}:alarm:{name}"],
        "detail": {
            "alarmName": name,
            "state": {"value": state, "reason": reason, "timestamp": time.replace("Z", ".000+0000")},
            "previousState": {"value": "OK" if state == "ALARM" else "ALARM", "reason": "", "timestamp": time},
            "configuration": {"description": "site health", "metrics": []},
        },
    }


def execution_status_event(description: dict[str, Any], account: str, region: str) -> dict[str, Any]:
    """The "Step Functions Execution Status Change" event EventBridge receives when an execution
    ends, built from its DescribeExecution answer (dates in epoch milliseconds, as AWS sends them)."""

    def millis(moment: Any) -> int | None:
        return int(moment.timestamp() * 1000) if moment is not None else None

    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": account,
        "time": (description.get("stopDate") or description["startDate"]).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [description["executionArn"]],
        "detail": {
            "executionArn": description["executionArn"],
            "stateMachineArn": description["stateMachineArn"],
            "name": description["name"],
            "status": description["status"],
            "startDate": millis(description.get("startDate")),
            "stopDate": millis(description.get("stopDate")),
            "input": description.get("input"),
            "output": description.get("output"),
            "error": description.get("error"),
            "cause": description.get("cause"),
        },
    }
