"""The resolved definition passes asl-validator and the template passes cfn-lint."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.aws import REGION, _physical, resolve

PROJECT = Path(__file__).resolve().parents[2]
ASL_VALIDATOR = PROJECT / "node_modules" / ".bin" / "asl-validator"


def asl_validator(definition: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run asl-validator on a state machine definition; fail the test if it is not installed."""
    if not ASL_VALIDATOR.exists():
        pytest.fail("asl-validator is not installed: run 'make setup' (npm ci)")
    path = tmp_path / "definition.asl.json"
    path.write_text(definition)
    return subprocess.run([str(ASL_VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False)  # noqa: S603


def resolved_definition(resources: dict[str, Any]) -> str:
    """The state machine definition with CloudFormation references replaced by physical names."""
    (machine,) = [r for r in resources.values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    return str(resolve(machine["Properties"]["DefinitionString"], _physical(resources, REGION), REGION))


def test_resolved_definition_passes_asl_validator(resources: dict[str, Any], tmp_path: Path) -> None:
    # Given the synthesized state machine, its references resolved as CloudFormation would
    definition = resolved_definition(resources)
    # When asl-validator checks it
    run = asl_validator(definition, tmp_path)
    # Then it finds nothing wrong
    assert run.returncode == 0, run.stdout + run.stderr
    # And the workflow starts by validating the operator's input
    assert json.loads(definition)["StartAt"] == "ValidateInput"


def test_asl_validator_catches_a_dangling_next(resources: dict[str, Any], tmp_path: Path) -> None:
    # Given the synthesized state machine with CheckReplication pointing to a state that does not
    # exist (the check above must be able to fail)
    broken = json.loads(resolved_definition(resources))
    broken["States"]["CheckReplication"]["Next"] = "NoSuchState"
    # When asl-validator checks it
    # Then it reports the error
    assert asl_validator(json.dumps(broken), tmp_path).returncode != 0


def test_template_passes_cfn_lint(template_file: Path) -> None:
    # Given the synthesized CloudFormation template
    # When cfn-lint checks it
    cfn_lint = shutil.which("cfn-lint") or str(PROJECT / ".venv" / "bin" / "cfn-lint")
    # W3005: CDK writes explicit DependsOn that cfn-lint finds redundant.
    command = [cfn_lint, "--ignore-checks", "W3005", "--", str(template_file)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    # Then it finds nothing wrong
    assert run.returncode == 0, run.stdout + run.stderr
