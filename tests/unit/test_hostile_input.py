"""Hostile input, generated: console inputs and alarm events are either refused before any side
effect with a message naming the field, or accepted only if valid; malformed CloudEndure answers
raise InvalidResponse, never a traceback of another kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any

import pytest
from dr_autopilot.errors import InvalidInput, InvalidResponse
from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import FailoverRequest, ValidateInputEvent
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.providers.cloudendure.models import Job, Machine, PointInTime, Project, Replica
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from local.events import alarm_event, matches, transform
from local.invariants import BAD_CONFIGURATIONS, bad_configuration_problem
from local.schema import SCHEMA_FILE

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
EXAMPLES = 600
SCHEMA = Draft202012Validator(json.loads(SCHEMA_FILE.read_text()), format_checker=FormatChecker())
FIELDS = ["mode", "pointInTime", "force", "dryRun", "requestedBy", "reason", "alarm"]

hostile_text = st.one_of(
    st.text(max_size=40),
    # 2,000-6,000 characters, far past every length limit: a random 20-60-character piece repeated
    # (drawing each of thousands of characters one by one took most of this module's CPU time)
    st.text(min_size=20, max_size=60).map(lambda piece: piece * 100),
    st.sampled_from(
        [
            "'; DROP TABLE x; --",
            "$(rm -rf /)",
            "<script>alert(1)</script>",
            "{{7*7}}",
            "../../etc/passwd",
            "\x00\x1b[31m",
            "alice\nbob",
            " " * 300,
        ]
    ),
)
timestamps = st.one_of(
    st.datetimes(
        min_value=datetime(1990, 1, 1),
        max_value=datetime(2030, 1, 1),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12, minutes=-30))]),
    ).map(lambda d: d.isoformat()),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)).map(lambda d: d.isoformat()),  # naive
    st.sampled_from(
        [
            "latest",
            "LATEST",
            " latest ",
            "now",
            "yesterday",
            "2026-11-25",
            "25/11/2026 02:50",
            "2026-11-25T02:50:00+25:00",
            "1732500000",
            "-1",
            "2026-13-45T99:99:99Z",
        ]
    ),
    st.integers(),
    st.floats(allow_nan=True),
)
any_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
field_values = {
    "mode": st.one_of(st.sampled_from(["recovery", "drill", "RECOVERY", "failback", ""]), any_json),
    "pointInTime": timestamps,
    "force": st.one_of(st.booleans(), any_json),
    "dryRun": st.one_of(st.booleans(), any_json),
    "requestedBy": st.one_of(
        st.sampled_from(["alice", "bob@example.com", "on-call (primary)"]), hostile_text, any_json
    ),
    "reason": st.one_of(hostile_text, any_json),
    "alarm": st.one_of(
        st.fixed_dictionaries(
            {"name": st.one_of(st.just("site-down"), hostile_text)},
            optional={"reason": hostile_text, "time": timestamps},
        ),
        any_json,
    ),
}
console_inputs = st.one_of(
    st.fixed_dictionaries({}, optional={name: strategy for name, strategy in field_values.items()}),
    st.dictionaries(st.text(max_size=15), any_json, max_size=5),  # unknown fields
    any_json,  # not even an object
)


def run(raw: object) -> FailoverRequest | InvalidInput:
    event = ValidateInputEvent.model_validate(
        {"input": raw, "execution": {"id": "arn:x", "name": "x", "startTime": NOW.isoformat()}}
    )
    try:
        return validate_input(event)
    except InvalidInput as refused:
        return refused


def assert_refused_or_valid(raw: object) -> None:
    outcome = run(raw)  # any exception other than InvalidInput fails the test
    if isinstance(outcome, FailoverRequest):
        # accepted only if valid: the schema (an independent oracle) agrees, and it is not in the future
        assert isinstance(raw, dict)
        assert not list(SCHEMA.iter_errors(raw)), raw
        assert outcome.point_in_time is None or outcome.point_in_time <= NOW
        assert len(outcome.requested_by) <= 128 and len(outcome.reason) <= 1024
    else:
        message = str(outcome)
        if isinstance(raw, dict):
            assert any(str(key) in message for key in raw), (raw, message)
        else:
            assert "must be a JSON object" in message


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example, HealthCheck.data_too_large],
)
@given(console_inputs)
def test_console_inputs_are_refused_naming_the_field_or_accepted_only_if_valid(raw: object) -> None:
    # Given whatever an operator could paste into the console as execution input: wrong types,
    # unknown fields, odd timestamps, injection strings, huge text, or not even a JSON object
    # When ValidateInput reads it
    # Then it is refused with InvalidInput naming the field (or saying it must be an object)
    # And it is accepted only if the committed schema agrees, its point in time is not in the future
    # and the requester and reason fit their limits
    assert_refused_or_valid(raw)


@cache
def alarm_rule() -> dict[str, Any]:
    from local.environment import base_context, synthesize

    template = synthesize({**base_context(), "aws:cdk:bundling-stacks": []})
    rules: list[dict[str, Any]] = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Events::Rule" and r["Properties"]["EventPattern"]["source"] == ["aws.cloudwatch"]
    ]
    (rule,) = rules
    return rule


@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    name=st.one_of(st.just("www-example-com-down"), hostile_text),
    state=st.one_of(st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]), st.text(max_size=10)),
    reason=hostile_text,
    time=st.one_of(timestamps.map(str), st.just("2026-11-25T02:59:00Z")),
)
def test_alarm_events_start_only_valid_failovers(name: str, state: str, reason: str, time: str) -> None:
    # Given the deployed EventBridge rule and an alarm state change with any name, state, reason and time
    rule = alarm_rule()
    event = alarm_event(name, state=state, reason=reason, time=time)
    # When the rule is matched against the event
    if not matches(rule["EventPattern"], event):
        # Then only events other than the site-down alarm going into ALARM are ignored
        assert name != "www-example-com-down" or state != "ALARM"
        return
    # Then only the site-down alarm going into ALARM starts a failover
    assert name == "www-example-com-down" and state == "ALARM"
    # And ValidateInput, reading the input that the rule's transformer builds from the event, accepts
    # an alarm-triggered request with a reason that fits; only a malformed event time makes it refuse
    started_input = json.loads(transform(rule["Targets"][0]["InputTransformer"], event))
    outcome = run(started_input)
    if isinstance(outcome, InvalidInput):
        assert "alarm.time" in str(outcome), outcome  # only a malformed event time can make an alarm input invalid
    else:
        assert outcome.trigger == "alarm" and len(outcome.reason) <= 1024


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=st.sampled_from([Machine, Job, Replica, PointInTime, Project]), body=any_json)
def test_malformed_cloudendure_answers_raise_invalid_response(model: type, body: object) -> None:
    # Given any JSON body where CloudEndure should have answered a machine, job, replica,
    # recovery point or project
    # When the client parses it
    # Then it either fits the model, or fails with InvalidResponse naming the model; any other
    # exception fails the test
    try:
        CloudEndureClient._parse(model, body)
    except InvalidResponse as error:
        assert model.__name__ in str(error)


@pytest.mark.parametrize(("what", "overrides", "key"), BAD_CONFIGURATIONS, ids=[case[0] for case in BAD_CONFIGURATIONS])
def test_synth_refuses_bad_configuration_naming_the_key(what: str, overrides: dict[str, Any], key: str) -> None:
    # Given cdk.json's configuration with one thing wrong (coerced types, an API reachable in the
    # clear or with user info, the drill record equal to production's once normalised, ...)
    # When it is parsed as synth parses it
    # Then it is refused with a ConfigError that names the key
    assert bad_configuration_problem(overrides, key) is None
