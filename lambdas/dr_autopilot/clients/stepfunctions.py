"""Step Functions: an execution's history, as the state machine recorded it."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr_autopilot import history
from dr_autopilot.clients.aws import client
from dr_autopilot.errors import ServiceUnavailable

DOES_NOT_EXIST = "DOES_NOT_EXIST"


class StepFunctionsHistory:
    """Execution histories (satisfies `ports.ExecutionHistory`)."""

    def __init__(self, states: Any | None = None) -> None:
        self._states = states or client("stepfunctions")

    def events(self, execution_arn: str) -> list[dict[str, Any]]:
        try:
            return history.history(self._states, execution_arn)
        except (ClientError, BotoCoreError) as error:
            raise ServiceUnavailable(f"could not read the history of {execution_arn}: {error}") from error

    def status(self, execution_arn: str) -> str:
        try:
            return str(self._states.describe_execution(executionArn=execution_arn)["status"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return DOES_NOT_EXIST
            raise ServiceUnavailable(f"could not read the status of {execution_arn}: {error}") from error
        except BotoCoreError as error:
            raise ServiceUnavailable(f"could not read the status of {execution_arn}: {error}") from error
