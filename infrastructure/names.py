"""Names that more than one construct needs before the resource exists.

The state machine's name is fixed (not generated) so that a function *inside* it can be granted
`states:DescribeExecution` on its executions without a reference to the state machine itself,
which would make a dependency cycle (state machine -> function -> role policy -> state machine).
It contains "FailoverStateMachine", which `dr-autopilot` looks for when no ARN is given.
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack


def state_machine_name(stack: Stack) -> str:
    return f"{stack.stack_name}-FailoverStateMachine"


def execution_arns(stack: Stack) -> str:
    """Every execution of the failover state machine (execution ARNs are made per run)."""
    return str(
        stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{state_machine_name(stack)}:*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
    )
