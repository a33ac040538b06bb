"""DRS's modeled errors: the HTTP status, the `X-Amzn-ErrorType` and the body of each.

botocore picks the exception class from the `X-Amzn-ErrorType` header (the part before `:`), so
`client.exceptions.ConflictException` and friends are raised from these answers.
"""

from __future__ import annotations

from typing import Any

from local.drs.scenario import ErrorType

STATUS = {
    ErrorType.THROTTLING: 429,
    ErrorType.INTERNAL_SERVER: 500,
    ErrorType.VALIDATION: 400,
    ErrorType.CONFLICT: 409,
    ErrorType.SERVICE_QUOTA_EXCEEDED: 402,
    ErrorType.UNINITIALIZED_ACCOUNT: 400,
    ErrorType.RESOURCE_NOT_FOUND: 404,
    ErrorType.ACCESS_DENIED: 403,
}
# AWS appends the service's namespace to the error type; clients keep the part before ':'.
ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazonaws.drs/"
SERVICE_CODE = "drs"


class DrsError(Exception):
    """An error answer: the modeled error type, its body members and its headers."""

    def __init__(
        self, error_type: ErrorType, message: str, headers: dict[str, str] | None = None, **members: Any
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = STATUS[error_type]
        self.message = message
        self.headers = headers or {}
        self.members = {name: value for name, value in members.items() if value is not None}

    def body(self) -> dict[str, Any]:
        if self.error_type in (ErrorType.THROTTLING, ErrorType.INTERNAL_SERVER):
            return {"message": self.message, **self.members}  # these two have no `code` member
        return {"message": self.message, "code": self.error_type.value, **self.members}


def validation_error(fields: list[tuple[str, str]], reason: str = "fieldValidationFailed") -> DrsError:
    """A ValidationException listing each failed field as AWS words it."""
    count = len(fields)
    detail = "; ".join(f"Value at '{name}' failed to satisfy constraint: {message}" for name, message in fields)
    message = f"{count} validation error{'s' if count != 1 else ''} detected: {detail}" if fields else reason
    return DrsError(
        ErrorType.VALIDATION,
        message,
        reason=reason,
        fieldList=[{"name": name, "message": message} for name, message in fields],
    )


def invalid(reason: str, message: str) -> DrsError:
    """A ValidationException that is not about one field (unparsable body, unknown operation)."""
    return DrsError(ErrorType.VALIDATION, message, reason=reason, fieldList=[])


def not_found(resource_type: str, resource_id: str) -> DrsError:
    return DrsError(
        ErrorType.RESOURCE_NOT_FOUND,
        f"{resource_type.replace('_', ' ').title()} {resource_id} not found",
        resourceId=resource_id,
        resourceType=resource_type,
    )


def conflict(message: str, resource_id: str, resource_type: str) -> DrsError:
    return DrsError(ErrorType.CONFLICT, message, resourceId=resource_id, resourceType=resource_type)


def quota_exceeded(message: str, quota_code: str, resource_type: str) -> DrsError:
    return DrsError(
        ErrorType.SERVICE_QUOTA_EXCEEDED,
        message,
        resourceType=resource_type,
        serviceCode=SERVICE_CODE,
        quotaCode=quota_code,
    )


def throttled(retry_after_seconds: int | None) -> DrsError:
    headers = {} if retry_after_seconds is None else {"Retry-After": str(retry_after_seconds)}
    return DrsError(ErrorType.THROTTLING, "Rate exceeded", headers, serviceCode=SERVICE_CODE, quotaCode="RequestRate")


def uninitialized() -> DrsError:
    return DrsError(
        ErrorType.UNINITIALIZED_ACCOUNT,
        "Account is not initialized. Initialize the service with InitializeService before using it.",
    )


def from_fault(error_type: ErrorType, retry_after_seconds: int | None) -> DrsError:
    """The error an armed fault answers with."""
    if error_type is ErrorType.THROTTLING:
        return throttled(retry_after_seconds)
    headers = {} if retry_after_seconds is None else {"Retry-After": str(retry_after_seconds)}
    if error_type is ErrorType.UNINITIALIZED_ACCOUNT:
        return uninitialized()
    if error_type is ErrorType.VALIDATION:
        return invalid("other", "Injected validation failure")
    return DrsError(error_type, f"Injected {error_type.value}", headers)
