"""Synthesize the app once per session with cdk.json's example configuration.

Every infrastructure test runs on one test worker (an xdist group): only that worker starts the
CDK's Node.js process for them; the others read templates from the session's synth cache."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.environment import base_context, synthesize


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/infrastructure/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("cdk"))


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return synthesize({**base_context(), "aws:cdk:bundling-stacks": []})


@pytest.fixture(scope="session")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return dict(template["Resources"])


@pytest.fixture(scope="session")
def template_file(template: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("synth") / "DrAutopilot.template.json"
    path.write_text(json.dumps(template))
    yield path
