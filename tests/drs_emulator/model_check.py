"""Checks every answer the emulator gives against botocore's DRS model, independently of the
emulator's own code: the success status is the operation's `http.responseCode`, the body has
only the output shape's members with their types, lengths, patterns and enum values, and an
error's body and status are those of the error shape its `X-Amzn-ErrorType` names."""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
}


def shape_violations(shape: Shape, value: Any, path: str = "$") -> list[str]:
    """Every way `value` breaks `shape` (empty when it conforms)."""
    found: list[str] = []
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {shape.name}"]
        found += [f"{path}.{name}: required by {shape.name}" for name in shape.required_members if name not in value]
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                found.append(f"{path}.{name}: not a member of {shape.name}")
            elif member.serialization.get("location") is None:
                found += shape_violations(member, item, f"{path}.{name}")
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            return [f"{path}: expected a list for {shape.name}"]
        found += _size(shape, len(value), path)
        for index, item in enumerate(value):
            found += shape_violations(shape.member, item, f"{path}[{index}]")
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return [f"{path}: expected a map for {shape.name}"]
        for key, item in value.items():
            found += shape_violations(shape.key, key, f"{path}<key>") + shape_violations(
                shape.value, item, f"{path}.{key}"
            )
    else:
        expected = PYTHON_TYPES[shape.type_name]
        if not isinstance(value, expected) or (shape.type_name != "boolean" and isinstance(value, bool)):
            return [f"{path}: {value!r} is not a {shape.type_name} ({shape.name})"]
        if isinstance(value, str):
            found += _size(shape, len(value), path)
            if shape.enum and value not in shape.enum:
                found.append(f"{path}: {value!r} not in the enum of {shape.name}")
            pattern = shape.metadata.get("pattern")
            if pattern and not re.fullmatch(pattern, value):
                found.append(f"{path}: {value!r} does not match {shape.name}'s pattern {pattern}")
        elif isinstance(value, int) and shape.type_name in ("integer", "long"):
            found += _size(shape, value, path)
    return found


def _size(shape: Shape, size: int, path: str) -> list[str]:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and size < low) or (high is not None and size > high):
        return [f"{path}: size {size} outside [{low}, {high}] of {shape.name}"]
    return []


class AnswerChecker:
    """A botocore `before-parse` handler that fails the call whose answer breaks the model."""

    def __init__(self, service_model: ServiceModel) -> None:
        self.service_model = service_model
        self.checked: dict[str, int] = {}  # operation -> answers checked
        self.errors_seen: set[str] = set()

    def __call__(self, operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
        status = response_dict["status_code"]
        headers = {name.lower(): value for name, value in response_dict["headers"].items()}
        body = json.loads(response_dict["body"] or b"{}")
        name = operation_model.name
        if status < 300:
            expected = operation_model.http.get("responseCode", 200)
            assert status == expected, f"{name} answered {status}, the model says {expected}"
            output = operation_model.output_shape
            problems = shape_violations(output, body) if output is not None else ([] if body == {} else ["body"])
            assert not problems, f"{name} answer breaks the model: {problems[:5]}"
        elif "x-amzn-errortype" in headers:
            error_name = headers["x-amzn-errortype"].split(":", 1)[0]
            error_shape = self.service_model.shape_for(error_name)
            assert status == error_shape.metadata["error"]["httpStatusCode"], f"{error_name} with status {status}"
            problems = shape_violations(error_shape, body)
            assert not problems, f"{error_name} body breaks the model: {problems}"
            self.errors_seen.add(error_name)
        self.checked[name] = self.checked.get(name, 0) + 1
