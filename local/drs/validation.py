"""Request validation driven by botocore's DRS service model, as the service validates its input.

botocore checks little on the client side (required members, types, minimums); the service also
enforces maximum lengths, list sizes, patterns and enums, and rejects members it does not know.
Reading the constraints from the same model the client uses keeps the emulator faithful to
it without a hand-written copy of each shape.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from local.drs.errors import DrsError, validation_error

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "long": (int,),
    "boolean": (bool,),
    "double": (int, float),
    "float": (int, float),
}


@functools.cache
def service_model() -> ServiceModel:
    """botocore's model of the DRS API (`botocore/data/drs/*/service-2.json`)."""
    return botocore.session.get_session().get_service_model("drs")


def operation_model(name: str) -> OperationModel:
    return service_model().operation_model(name)


def validate_input(operation: OperationModel, params: dict[str, Any]) -> None:
    """Raise a ValidationException naming every member of `params` that breaks the input shape."""
    shape = operation.input_shape
    if shape is None:
        return
    problems: list[tuple[str, str]] = []
    _check(shape, params, "", problems)
    if problems:
        raise validation_error(problems)


def _check(shape: Shape, value: Any, path: str, problems: list[tuple[str, str]]) -> None:
    name = path or shape.name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            problems.append((name, "Member must be a structure"))
            return
        for member in shape.required_members:
            if value.get(member) is None:
                problems.append((_join(path, member), "Member must not be null"))
        for key, item in value.items():
            member_shape = shape.members.get(key)
            if member_shape is None:
                problems.append((_join(path, key), "Member is not a member of " + shape.name))
            elif item is not None:
                _check(member_shape, item, _join(path, key), problems)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            problems.append((name, "Member must be a list"))
            return
        _check_size(shape, len(value), name, "length", problems)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{name}.{index + 1}.member", problems)
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            problems.append((name, "Member must be a map"))
            return
        _check_size(shape, len(value), name, "length", problems)
        for key, item in value.items():
            _check(shape.key, key, f"{name}.key", problems)
            _check(shape.value, item, f"{name}.{key}", problems)
    else:
        _check_scalar(shape, value, name, problems)


def _check_scalar(shape: Shape, value: Any, name: str, problems: list[tuple[str, str]]) -> None:
    expected = JSON_TYPES.get(shape.type_name, (object,))
    if not isinstance(value, expected) or (shape.type_name != "boolean" and isinstance(value, bool)):
        problems.append((name, f"Member must be of type {shape.type_name}"))
        return
    if isinstance(value, str):
        _check_size(shape, len(value), name, "length", problems)
        pattern = shape.metadata.get("pattern")
        # Smithy patterns are not implicitly anchored: a match anywhere counts.
        if pattern is not None and re.search(pattern, value) is None:
            problems.append((name, f"Member must satisfy regular expression pattern: {pattern}"))
        if shape.enum and value not in shape.enum:
            problems.append((name, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
    elif isinstance(value, int) and shape.type_name in ("integer", "long"):
        _check_size(shape, value, name, "value", problems)


def _check_size(shape: Shape, size: int, name: str, what: str, problems: list[tuple[str, str]]) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and size < low:
        problems.append((name, f"Member must have {what} greater than or equal to {low}"))
    if high is not None and size > high:
        problems.append((name, f"Member must have {what} less than or equal to {high}"))


def _join(path: str, member: str) -> str:
    return f"{path}.{member}" if path else member


def reject(name: str, message: str) -> DrsError:
    """A ValidationException for one field whose value is well-formed but unusable."""
    return validation_error([(name, message)])
