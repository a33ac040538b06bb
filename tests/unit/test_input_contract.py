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
    assert SCHEMA_FILE.read_text() == rendered(), "run 'make schema' and commit schemas/failover-input.schema.json"


def test_readme_has_the_documented_examples() -> None:
    examples = console_examples()
    assert len(examples) >= 5
    assert {"dryRun", "pointInTime", "mode", "force"} <= {key for example in examples for key in example}


@pytest.mark.parametrize("example", console_examples(), ids=lambda e: ",".join(e) or "empty")
def test_every_readme_example_is_valid_for_the_schema_and_the_workflow(example: dict[str, object]) -> None:
    Draft202012Validator(json.loads(SCHEMA_FILE.read_text())).validate(example)
    event = ValidateInputEvent.model_validate(
        {"input": example, "execution": {"id": "arn:x", "name": "x", "startTime": datetime.now(UTC).isoformat()}}
    )
    request = validate_input(event)
    assert request.requested_by == example.get("requestedBy", "unknown")


def test_schema_refuses_what_the_workflow_refuses() -> None:
    validator = Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    for wrong in ({"mode": "failback"}, {"colour": "red"}, {"force": "yes"}, {"alarm": {"reason": "no name"}}):
        assert list(validator.iter_errors(wrong)), wrong
