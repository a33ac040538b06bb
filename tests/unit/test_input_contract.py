"""The documented input contract: the committed JSON Schema, and every README example."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import ValidateInputEvent
from jsonschema import Draft202012Validator

from local.schema import SCHEMA_FILE, rendered

README = Path(__file__).resolve().parents[2] / "README.md"


def console_examples() -> list[dict[str, object]]:
    text = README.read_text()
    section = text.split("## Start a failover from the console", 1)[1].split("\n## ", 1)[0]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)\n```", section, re.DOTALL)]


def test_committed_schema_is_generated_from_the_input_model() -> None:
    # Given the JSON Schema committed for operators and the input model ValidateInput uses
    # When the schema is rendered again from the model
    # Then it is identical to the committed file, so the documented contract is the enforced one
    assert SCHEMA_FILE.read_text() == rendered(), "run 'make schema' and commit schemas/failover-input.schema.json"


def test_readme_has_the_documented_examples() -> None:
    # Given the README's section on starting a failover from the console
    # When its JSON examples are read
    examples = console_examples()
    # Then there are at least five, and together they show dry run, point in time, mode and force
    assert len(examples) >= 5
    assert {"dryRun", "pointInTime", "mode", "force"} <= {key for example in examples for key in example}


@pytest.mark.parametrize("example", console_examples(), ids=lambda e: ",".join(e) or "empty")
def test_every_readme_example_is_valid_for_the_schema_and_the_workflow(example: dict[str, object]) -> None:
    # Given one console input example from the README
    # When it is checked against the committed schema
    # Then the schema accepts it
    Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(example)
    # And, as the input of an execution, ValidateInput accepts it and records who asked for the
    # failover ("unknown" when the example does not say)
    event = ValidateInputEvent.model_validate(
        {"input": example, "execution": {"id": "arn:x", "name": "x", "startTime": datetime.now(UTC).isoformat()}}
    )
    request = validate_input(event)
    assert request.requested_by == example.get("requestedBy", "unknown")


def test_schema_refuses_what_the_workflow_refuses() -> None:
    # Given the committed schema
    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    # When it checks inputs the workflow refuses: an unknown mode, an unknown field, a force flag
    # that is not a boolean, and an alarm without a name
    # Then it reports at least one error for each
    for wrong in ({"mode": "failback"}, {"colour": "red"}, {"force": "yes"}, {"alarm": {"reason": "no name"}}):
        assert list(validator.iter_errors(wrong)), wrong
