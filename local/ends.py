"""Every way an execution can end, each run on the local drill and judged by its final message.

`make reliability` runs them for its "silent ends" row: an end is silent unless exactly one final
message was sent, with the expected subject, saying truthfully whether a launch was started and
whether DNS moved. The workflow tests (tests/workflow/test_every_end.py) hold the same ends with
closer assertions; this table is the figure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dr_autopilot.states import TASKS, StateName

from local.aws import ACCOUNT
from local.environment import LocalFailoverEnvironment
from local.events import alarm_event, execution_status_event
from local.executions import ExecutionResult
from local.site import PRIMARY_ADDRESS

FINAL_SUBJECTS = ("succeeded", "failed", "aborted", "timed out", "dry run", "refused")
Run = Callable[[LocalFailoverEnvironment], ExecutionResult]


def is_final(message: dict[str, str]) -> bool:
    return message["subject"].endswith(FINAL_SUBJECTS)


@dataclass(frozen=True)
class EndCase:
    name: str
    scenario: str
    run: Run
    status: str  # the execution's status at its end
    subject: str  # the one final message's subject


@dataclass
class EndVerdict:
    case: EndCase
    status: str
    finals: int
    throttles: int
    problems: list[str] = field(default_factory=list)

    @property
    def silent(self) -> bool:
        return bool(self.problems)


def _start(failover_input: dict[str, Any], prepare: Callable[[LocalFailoverEnvironment], None] | None = None) -> Run:
    def run(env: LocalFailoverEnvironment) -> ExecutionResult:
        if prepare is not None:
            prepare(env)
        return env.executions.run(failover_input)

    return run


def _aborted_in(state: StateName) -> Run:
    """On-call stops the execution while `state` is in flight (its function stalls meanwhile)."""

    def run(env: LocalFailoverEnvironment) -> ExecutionResult:
        env.aws.runtime.stall(state, seconds=60)
        arn = env.executions.start({"requestedBy": "ends"})
        env.executions.wait_until_entered(arn, state)
        env.aws.client("stepfunctions").stop_execution(executionArn=arn, error="Stopped", cause="stopped by on-call")
        return env.executions.wait(arn)

    return run


def _timed_out_while_polling(env: LocalFailoverEnvironment) -> ExecutionResult:
    env.aws.runtime.stall(StateName.POLL_JOB, seconds=60)
    with env.aws.interpreter_speed(1000):  # workflowTimeoutSeconds (7,200 s) in 7.2 s
        return env.executions.run({"requestedBy": "ends"})


def _end_event_twice(env: LocalFailoverEnvironment) -> ExecutionResult:
    result = env.executions.run({"requestedBy": "ends"})
    states = env.aws.client("stepfunctions")
    env.executions.deliver_event(
        execution_status_event(states.describe_execution(executionArn=result.arn), ACCOUNT, env.aws.region)
    )
    return result


def _sns_fails_once_after(state: StateName) -> Callable[[LocalFailoverEnvironment], None]:
    def prepare(env: LocalFailoverEnvironment) -> None:
        env.aws.fail_calls_after(state, "sns", "Publish", "InternalError", count=1)

    return prepare


def _lock_table_fails_at_the_end(env: LocalFailoverEnvironment) -> None:
    # After the launch's idempotency record (the same DynamoDB client): only the end is hit.
    env.aws.fail_calls_after(StateName.UPDATE_DNS, "dynamodb", "UpdateItem", "InternalServerError", count=1000)


def _time_out_after_return(state: StateName, count: int) -> Callable[[LocalFailoverEnvironment], None]:
    def prepare(env: LocalFailoverEnvironment) -> None:
        env.aws.runtime.time_out_after_return(state, count=count)

    return prepare


def _alarm(env: LocalFailoverEnvironment) -> ExecutionResult:
    (arn,) = env.executions.deliver_event(alarm_event("www-example-com-down", time="2026-11-25T03:00:00Z"))
    return env.executions.wait(arn)


SUCCEEDED, FAILED = "[DR Autopilot] recovery succeeded", "[DR Autopilot] recovery failed"
END_CASES: list[EndCase] = [
    EndCase("succeeded", "two-tier", _start({"requestedBy": "ends"}), "SUCCEEDED", SUCCEEDED),
    EndCase("succeeded, started by an alarm", "two-tier", _alarm, "SUCCEEDED", SUCCEEDED),
    EndCase("failed before launching", "lagging", _start({"requestedBy": "ends"}), "FAILED", FAILED),
    EndCase("failed after launching", "job-fails", _start({"requestedBy": "ends"}), "FAILED", FAILED),
    EndCase("failed at the health check", "unhealthy-landing", _start({"requestedBy": "ends"}), "FAILED", FAILED),
    EndCase(
        "input refused", "two-tier", _start({"mode": "failback"}), "FAILED", "[DR Autopilot] failover input refused"
    ),
    EndCase("dry run", "two-tier", _start({"dryRun": True}), "SUCCEEDED", "[DR Autopilot] recovery dry run"),
    EndCase(
        "aborted while polling the job",
        "two-tier",
        _aborted_in(StateName.POLL_JOB),
        "ABORTED",
        "[DR Autopilot] recovery aborted",
    ),
    EndCase(
        "aborted while switching DNS",
        "two-tier",
        _aborted_in(StateName.UPDATE_DNS),
        "ABORTED",
        "[DR Autopilot] recovery aborted",
    ),
    EndCase(
        "timed out while polling the job",
        "two-tier",
        _timed_out_while_polling,
        "TIMED_OUT",
        "[DR Autopilot] recovery timed out",
    ),
    EndCase(
        "success report retried after publishing",
        "two-tier",
        _start({"requestedBy": "ends"}, _time_out_after_return(StateName.REPORT_SUCCESS, 2)),
        "SUCCEEDED",
        SUCCEEDED,
    ),
    EndCase(
        "failure report times out on every attempt after publishing",
        "lagging",
        _start({"requestedBy": "ends"}, _time_out_after_return(StateName.REPORT_FAILURE, 10)),
        "FAILED",
        FAILED,
    ),
    EndCase(
        "SNS error on the success summary",
        "two-tier",
        _start({"requestedBy": "ends"}, _sns_fails_once_after(StateName.UPDATE_DNS)),
        "SUCCEEDED",
        SUCCEEDED,
    ),
    EndCase(
        "SNS error on the failure summary",
        "lagging",
        _start({"requestedBy": "ends"}, _sns_fails_once_after(StateName.ACQUIRE_LOCK)),
        "FAILED",
        FAILED,
    ),
    EndCase(
        "lock table failing at the end",
        "two-tier",
        _start({"requestedBy": "ends"}, _lock_table_fails_at_the_end),
        "SUCCEEDED",
        SUCCEEDED,
    ),
    EndCase("end event delivered twice", "lagging", _end_event_twice, "FAILED", FAILED),
]


def run_end(env: LocalFailoverEnvironment, case: EndCase) -> tuple[EndVerdict, ExecutionResult]:
    env.reset_site(case.scenario)
    try:
        result = case.run(env)
    finally:
        env.aws.runtime.disarm()
        env.aws.clear_faults("sns", "Publish")
        env.aws.clear_faults("dynamodb", "UpdateItem")
    return judge_end(env, case, result), result


def judge_end(env: LocalFailoverEnvironment, case: EndCase, result: ExecutionResult) -> EndVerdict:
    """Silent unless exactly one final message, the expected one, tells the truth about the launch
    and the DNS record as the site now is."""
    finals = [m for m in env.site.notifications() if is_final(m)]
    verdict = EndVerdict(case, result.status, len(finals), throttles_seen(result))
    if result.status != case.status:
        verdict.problems.append(f"ended {result.status}, expected {case.status}")
    if [m["subject"] for m in finals] != [case.subject]:
        verdict.problems.append(f"final messages {[m['subject'] for m in finals]}, expected [{case.subject!r}]")
        return verdict
    body = finals[0]["message"]
    jobs = env.provider.launch_job_ids()
    if jobs and not all(job in body for job in jobs):
        verdict.problems.append(f"launch job(s) {jobs} not named")
    if not jobs and not ("No launch was started" in body or "Nothing was launched" in body):
        verdict.problems.append("does not say that nothing was launched")
    record = env.site.record_values()
    # A run that ended while UpdateDns ran warns that DNS *may* be switched (the step may still
    # run); whether it then does (its lock may already be released: LockLost), the message said so.
    warned = "may be switched to the recovered webserver " in body
    if record == [PRIMARY_ADDRESS] and not warned and ("not changed" not in body and "unchanged" not in body):
        verdict.problems.append("does not say that DNS was not changed")
    if record != [PRIMARY_ADDRESS] and not all(address in body for address in record):
        verdict.problems.append(f"DNS moved to {record}, not said")
    return verdict


def _throttle_every_task(env: LocalFailoverEnvironment) -> None:
    """Lambda answers 429 TooManyRequestsException to the first call of every task's function."""
    for task in TASKS:
        env.aws.runtime.throttle(task.state, count=1)


def _throttled_alarm(env: LocalFailoverEnvironment) -> ExecutionResult:
    _throttle_every_task(env)
    return _alarm(env)


THROTTLE_CASES: list[EndCase] = [
    EndCase(
        "throttled: succeeded",
        "two-tier",
        _start({"requestedBy": "ends"}, _throttle_every_task),
        "SUCCEEDED",
        SUCCEEDED,
    ),
    EndCase("throttled: failed", "lagging", _start({"requestedBy": "ends"}, _throttle_every_task), "FAILED", FAILED),
    EndCase(
        "throttled: started by an alarm",
        "two-tier",
        _throttled_alarm,
        "SUCCEEDED",
        SUCCEEDED,
    ),
]


def throttles_seen(result: ExecutionResult) -> int:
    """How many task attempts of the run Lambda throttled."""
    return sum(
        1
        for event in result.events
        if event["type"] == "LambdaFunctionFailed"
        and event["lambdaFunctionFailedEventDetails"]["error"] == "Lambda.TooManyRequestsException"
    )
