"""One source of truth: the state table (dr_autopilot/states.py) drives the template, the functions,
their environment and permissions, the CLI's and the drill's phases; no other production module
spells a state name."""

from __future__ import annotations

import ast
import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dr_autopilot import errors
from dr_autopilot.config import FailoverConfig
from dr_autopilot.environment import Variable
from dr_autopilot.states import FUNCTIONS, PHASE_OF_STATE, PHASES, TASKS, StateName

from local.aws import REGION, _physical, resolve
from local.environment import PROJECT_ROOT, base_context, merge, synthesize
from tests.infrastructure.test_stack import definition, of_type

PRODUCTION = ["lambdas", "infrastructure", "dr_autopilot_cli", "local", "benchmarks", "app.py"]
STATE_TABLE = PROJECT_ROOT / "lambdas" / "dr_autopilot" / "states.py"
POWERTOOLS_VARIABLES = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}
# Every optional part: the approval gate and a recovery plan in waves.
GATED = {
    "drAutopilot": {
        "trigger": {"approval": "approve", "onApprovalTimeout": "abort"},
        "waves": [
            {"name": "database", "machines": ["DBServer"], "pauseSeconds": 30},
            {"name": "web", "machines": ["WebServer"], "check": {"machine": "DBServer", "port": 3306}},
        ],
        "workflowTimeoutSeconds": 14400,
    }
}


def production_files() -> list[Path]:
    files: list[Path] = []
    for entry in PRODUCTION:
        path = PROJECT_ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def functions_by_handler(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["Properties"]["Handler"]: f["Properties"] for f in of_type(resources, "AWS::Lambda::Function").values()}


@pytest.fixture(scope="module")
def gated_states() -> dict[str, Any]:
    """The definition with the approval gate and waves, whose states the default configuration leaves out."""
    template = synthesize(merge(base_context(), {**GATED, "aws:cdk:bundling-stacks": []}))
    (machine,) = of_type(template["Resources"], "AWS::StepFunctions::StateMachine").values()
    ids = _physical(template["Resources"], REGION)
    return dict(json.loads(resolve(machine["Properties"]["DefinitionString"], ids, REGION))["States"])


def test_a_state_name_is_spelled_only_in_the_state_table() -> None:
    # Given every state name of the table
    names = {state.value for state in StateName}
    # When every production module is read for string literals
    offenders = []
    for path in production_files():
        if path == STATE_TABLE:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and node.value in names:
                offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.value!r}")
    # Then none spells one: they all refer to StateName
    assert offenders == []
    # And the check can fail: the table itself does spell them
    table_literals = {
        node.value for node in ast.walk(ast.parse(STATE_TABLE.read_text())) if isinstance(node, ast.Constant)
    }
    assert names <= table_literals


def test_the_template_has_exactly_the_states_of_the_table(
    resources: dict[str, Any], gated_states: dict[str, Any]
) -> None:
    # Given the definition with and without the approval gate and waves
    default_states = set(definition(resources)["States"])
    # Then every state is one of the table's, and with the gate (abort on timeout) all but one appear
    assert default_states <= set(StateName) and set(gated_states) <= set(StateName)
    assert set(StateName) - set(gated_states) == {StateName.APPROVAL_TIMED_OUT_PROCEEDING}
    # And every state of a run belongs to one phase of the report, except the ends
    ends = {s for s, body in gated_states.items() if body["Type"] in ("Succeed", "Fail")}
    assert {s for s in gated_states if s not in PHASE_OF_STATE} == ends
    assert [state for phase in PHASES for state in phase.states if state in ends] == []


def test_each_task_runs_its_function_with_its_result_path(gated_states: dict[str, Any]) -> None:
    # Given the gated definition (every task present)
    tasks = {name: body for name, body in gated_states.items() if body["Type"] == "Task"}
    # Then the tasks are the table's, and each writes where the table says
    assert set(tasks) == {task.state for task in TASKS}
    for task in TASKS:
        if task.state is StateName.VALIDATE_INPUT:  # replaces the whole state with {"request": ...}
            assert tasks[task.state]["ResultSelector"] == {f"{task.result_key}.$": "$"}
            assert tasks[task.state]["ResultPath"] == "$"
        elif task.state is StateName.HOLD_DRILL:  # the answer is discarded; how the hold ended is written there
            assert tasks[task.state]["ResultPath"] is None
            for ended in (StateName.HOLD_ENDED, StateName.HOLD_EXPIRED, StateName.HOLD_INTERRUPTED):
                assert gated_states[ended]["ResultPath"] == task.result_path, ended
        else:
            assert tasks[task.state]["ResultPath"] == task.result_path, task.state


def test_functions_have_the_handler_timeout_and_only_the_variables_the_table_gives(
    resources: dict[str, Any],
) -> None:
    # Given the synthesized functions and cdk.json's configuration
    config = FailoverConfig.parse(base_context()["drAutopilot"])
    functions = functions_by_handler(resources)
    # Then there is one function per task (and ReportEnd), with the table's handler and timeout
    assert set(functions) == {task.handler for task in FUNCTIONS}
    for task in FUNCTIONS:
        props = functions[task.handler]
        assert props["Timeout"] == task.timeout(config), task.state
        # And exactly the variables its needs name, besides the configuration and Powertools'
        variables = set(props["Environment"]["Variables"])
        assert variables == {Variable.CONFIG, *task.variables} | POWERTOOLS_VARIABLES, task.state


def test_every_named_error_is_raised_by_the_code_or_says_who_uses_its_name() -> None:
    # Given every error class the workflow may see
    classes = [
        cls for _, cls in inspect.getmembers(errors, inspect.isclass) if issubclass(cls, errors.DrAutopilotError)
    ]
    source = "\n".join(
        path.read_text() for path in (PROJECT_ROOT / "lambdas").rglob("*.py") if path.name != "errors.py"
    )
    # Then each is used by the code (raised, caught or handed to a raiser) outside imports, is a base
    # class, or documents that no function raises it
    dead = []
    for cls in classes:
        used = re.search(rf"^(?!\s*(?:from|import) ).*\b{cls.__name__}\b", source, re.MULTILINE)
        base = any(other is not cls and issubclass(other, cls) for other in classes)
        documented = "Raised by no" in (cls.__doc__ or "")
        if not (used or base or documented):
            dead.append(cls.__name__)
    assert dead == []


def test_renaming_a_state_in_the_table_renames_it_in_the_template_the_cli_and_the_drill_report(
    tmp_path: Path,
) -> None:
    # Given a copy of the Lambda package whose state table calls PollJob "PollTheJob"
    package = tmp_path / "dr_autopilot"
    shutil.copytree(PROJECT_ROOT / "lambdas" / "dr_autopilot", package)
    table = package / "states.py"
    table.write_text(table.read_text().replace('POLL_JOB = "PollJob"', 'POLL_JOB = "PollTheJob"'))
    # When the app is synthesized and the CLI's and the drill's phase readers run with that copy
    probe = """
import json
from datetime import datetime, timedelta
from local.environment import base_context, synthesize
from local.report import TITLES
from dr_autopilot import history
from tests.infrastructure.test_stack import definition
states = definition(synthesize({**base_context(), "aws:cdk:bundling-stacks": []})["Resources"])["States"]
t = datetime(2026, 11, 25)
events = [{"stateEnteredEventDetails": {"name": "PollTheJob"}, "timestamp": t},
          {"stateExitedEventDetails": {"name": "PollTheJob", "output": "{}"}, "timestamp": t + timedelta(seconds=4)}]
spans = history.phase_spans(events)
print(json.dumps({"states": sorted(states), "spans": spans, "title": TITLES[spans[0][0]]}))
"""
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", probe],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{PROJECT_ROOT}"},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # Then the template has the new name and not the old one
    assert "PollTheJob" in seen["states"] and "PollJob" not in seen["states"]
    # And the CLI's history reader and the drill report put it in the job phase
    assert seen["spans"] == [["job", 4.0]] and seen["title"] == "Wait for the job"
