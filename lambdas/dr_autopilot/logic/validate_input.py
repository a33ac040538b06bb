"""ValidateInput: turn the console/CLI/alarm input into a FailoverRequest, or refuse it."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from pydantic import ValidationError

from dr_autopilot.errors import InvalidInput
from dr_autopilot.models import FailoverInput, FailoverRequest, ValidateInputEvent

HINTS = {
    "mode": "allowed: 'recovery' or 'drill'",
    "pointInTime": "allowed: 'latest' or an ISO-8601 timestamp with a time zone, e.g. 2026-11-25T02:50:00Z",
    "force": "allowed: true or false",
    "dryRun": "allowed: true or false",
    "readiness": "allowed: true or false, and true only with dryRun true",
    "requestedBy": "allowed: 1-128 letters, digits, spaces and . @ + : / ( ) - _",
}


@cache
def allowed_fields() -> str:
    """The input's field names as the JSON has them (generating the schema costs milliseconds)."""
    return ", ".join(FailoverInput.model_json_schema(by_alias=True)["properties"])


def describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:10]:
        # pydantic names union branches in the location ("literal[...]", ...); an unknown field's
        # location is the field itself, whatever its name.
        tags = () if item["type"] == "extra_forbidden" else ("function-", "literal[", "datetime")
        parts = [str(part) for part in item["loc"] if not str(part).startswith(tags)]
        if tags and parts and parts[0] in FailoverInput.model_fields:  # built by field name: say the JSON name
            parts[0] = FailoverInput.model_fields[parts[0]].alias or parts[0]
        field = ".".join(parts) or "(input)"
        top = parts[0] if parts else ""
        hint = HINTS.get(top, "")
        if item["type"] == "extra_forbidden":
            hint = f"unknown field; allowed fields: {allowed_fields()}"
        problems.append(f"{field}: {item['msg']}" + (f" ({hint})" if hint else ""))
    return "; ".join(dict.fromkeys(problems))


def one_line(text: str) -> str:
    """Free text as one line of printable characters: a reason (typed by a person, or an alarm's
    text) must not be able to add lines such as "Changed: ..." to the messages it is quoted in."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def validate_input(event: ValidateInputEvent) -> FailoverRequest:
    raw = event.input  # Step Functions passes {} when no input was given; null is not a request
    if not isinstance(raw, dict):
        raise InvalidInput(f"the execution input must be a JSON object, got {type(raw).__name__}")
    try:
        parsed = FailoverInput.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(f"invalid failover input: {describe(error)}") from None
    point = parsed.point_in_time if isinstance(parsed.point_in_time, datetime) else None
    if point is not None and point > event.execution.start_time:
        raise InvalidInput(f"pointInTime: {point.isoformat()} is in the future; recovery points only exist in the past")
    return FailoverRequest(
        mode=parsed.mode,
        point_in_time=point,
        force=parsed.force,
        dry_run=parsed.dry_run,
        readiness=parsed.readiness,
        requested_by=parsed.alarm.name if parsed.alarm and parsed.requested_by == "unknown" else parsed.requested_by,
        reason=one_line(parsed.reason or (parsed.alarm.reason if parsed.alarm else "")),
        trigger="alarm" if parsed.alarm else "console",
        alarm_name=parsed.alarm.name if parsed.alarm else None,
        execution_id=event.execution.id,
        execution_name=event.execution.name,
        started_at=event.execution.start_time,
    )
