"""README's tables say what the code does: the retry table is checked against the synthesized
definition, and the repository layout table against the folders."""

from __future__ import annotations

import re
from typing import Any

from local.environment import PROJECT_ROOT
from tests.infrastructure.test_stack import definition

README = PROJECT_ROOT / "README.md"
BEGIN, END = "<!-- retry-table: begin -->", "<!-- retry-table: end -->"


def retry_rows(states: dict[str, Any]) -> list[str]:
    """One Markdown row per distinct Retry rule of the definition, with the states that have it."""
    rules: dict[tuple[str, ...], list[str]] = {}
    for name, state in states.items():
        for rule in state.get("Retry", []):
            key = (
                ", ".join(f"`{error}`" for error in rule["ErrorEquals"]),
                str(rule.get("IntervalSeconds", 1)),
                str(rule.get("MaxAttempts", 3)),
                f"{rule.get('BackoffRate', 2.0):g}",
                rule.get("JitterStrategy", "NONE").lower(),
            )
            rules.setdefault(key, []).append(name)
    rows = []
    for (errors, interval, attempts, backoff, jitter), names in rules.items():
        others = sorted(set(tasks(states)) - set(names))
        if len(names) <= len(others):
            where = ", ".join(names)
        else:
            where = "every task" + (f" but {', '.join(others)}" if others else "")
        rows.append(f"| {errors} | {where} | {interval} s | {attempts} | x{backoff} | {jitter} |")
    return rows


def tasks(states: dict[str, Any]) -> list[str]:
    return [name for name, state in states.items() if state["Type"] == "Task"]


def test_the_readme_retry_table_is_the_definitions(resources: dict[str, Any]) -> None:
    # Given the retry rules of the synthesized definition
    expected = retry_rows(definition(resources)["States"])
    # When the README's retry table is read
    text = README.read_text()
    assert BEGIN in text and END in text, "README has no retry table markers"
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = [line.strip() for line in table.splitlines() if line.strip().startswith("| `")]
    # Then it lists exactly those rules (to update it, paste the rows below)
    assert rows == expected, "\n" + "\n".join(expected)


def test_the_readme_layout_table_names_folders_that_exist() -> None:
    # Given the repository layout table
    text = README.read_text()
    layout = text.split("### Repository layout", 1)[1].split("\n## ", 1)[0]
    paths = re.findall(r"^\| `([^`]+)`", layout, re.MULTILINE)
    # Then every path it names exists, and every top-level code folder is in it
    assert paths and [path for path in paths if not (PROJECT_ROOT / path.split(",")[0]).exists()] == []
    for folder in ("infrastructure", "lambdas", "local", "dr_autopilot_cli", "tests", "benchmarks", "schemas"):
        assert any(path.startswith(folder) for path in paths), folder
