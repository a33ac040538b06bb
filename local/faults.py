"""The fault matrix: every fault DR Autopilot must meet on the worst day, and what must happen.

Each case prepares the local environment (scenario, emulator faults, AWS faults, Lambda faults),
runs one failover and is judged by `judge`:

- survived: the run succeeded, DNS points at the recovered webserver, exactly one launch;
- failed loudly: it failed with the expected named error, DNS is unchanged, at most one launch
  happened, and exactly one SNS failure message names the error;
- silent: anything else — a run that neither did the job nor said clearly why. Must never happen.

The workflow tests run every case; `make reliability` runs them again and prints the figures.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import requests
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.providers.cloudendure.models import LaunchItem, LaunchType
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, ExecutionResult, LocalFailoverEnvironment


class Outcome(StrEnum):
    SURVIVED = "survived"
    FAILED_LOUDLY = "failed loudly"
    SILENT = "silent"


Prepare = Callable[[LocalFailoverEnvironment], None]


@dataclass(frozen=True)
class FaultCase:
    name: str
    scenario: str
    prepare: Prepare | None
    expected: Outcome
    error: str | None = None
    cause_words: str = ""


@dataclass
class Verdict:
    case: FaultCase
    outcome: Outcome
    launches: int
    dns_changed_to_unhealthy: bool
    problems: list[str] = field(default_factory=list)

    @property
    def as_expected(self) -> bool:
        return self.outcome is self.case.expected and not self.problems


def _arm(route: str, kind: str, count: int, **extra: Any) -> Prepare:
    def prepare(env: LocalFailoverEnvironment) -> None:
        body = {"route": route, "kind": kind, "count": count, **extra}
        requests.post(f"{env.emulator.admin_url}/faults", json=body, timeout=5).raise_for_status()

    return prepare


def _all(*steps: Prepare) -> Prepare:
    def prepare(env: LocalFailoverEnvironment) -> None:
        for step in steps:
            step(env)

    return prepare


def _landing(**spec: Any) -> Prepare:
    def prepare(env: LocalFailoverEnvironment) -> None:
        requests.post(f"{env.emulator.admin_url}/landing", json=spec, timeout=5).raise_for_status()

    return prepare


def _route53(code: str, count: int) -> Prepare:
    def prepare(env: LocalFailoverEnvironment) -> None:
        env.aws.fail_calls("route53", "ChangeResourceRecordSets", code, count=count)

    return prepare


def _earlier_launch(env: LocalFailoverEnvironment) -> None:
    """Someone launched the same machines before this failover (the job is still running)."""
    client = CloudEndureClient(api_token=lambda: env.emulator.api_token, base_url=env.emulator.base_url)
    project = client.projects()[0]
    client.launch(project.id, LaunchType.RECOVERY, [LaunchItem(machine_id=m.id) for m in client.machines(project.id)])


def _time_out_after_launch(env: LocalFailoverEnvironment) -> None:
    env.aws.runtime.time_out_after_return(StateName.LAUNCH_RECOVERY, count=1)


def _time_out_after_dns(env: LocalFailoverEnvironment) -> None:
    env.aws.runtime.time_out_after_return(StateName.UPDATE_DNS, count=1)


def _expire_sessions_at_launch(env: LocalFailoverEnvironment) -> None:
    requests.post(f"{env.emulator.admin_url}/sessions/expire", timeout=5).raise_for_status()


S, F = Outcome.SURVIVED, Outcome.FAILED_LOUDLY
# Faults of AWS and of the functions themselves: the same on every provider.
PROVIDER_NEUTRAL_FAULTS: list[FaultCase] = [
    FaultCase("LaunchRecovery times out after launching", "two-tier", _time_out_after_launch, S),
    FaultCase("UpdateDns times out after the UPSERT", "two-tier", _time_out_after_dns, S),
    FaultCase("Route 53 throttling burst", "two-tier", _route53("Throttling", 2), S),
    FaultCase("landing page 5xx", "unhealthy-landing", None, F, "TargetUnhealthy", "HTTP 503"),
    FaultCase(
        "Route 53 refuses the change",
        "two-tier",
        _route53("InvalidChangeBatch", 1000),
        F,
        "DnsUpdateFailed",
        "InvalidChangeBatch",
    ),
    FaultCase(
        "Route 53 throttling that never ends", "two-tier", _route53("Throttling", 1000), F, "DnsThrottled", "throttled"
    ),
]

FAULT_MATRIX: list[FaultCase] = [
    *PROVIDER_NEUTRAL_FAULTS,
    FaultCase(
        "CloudEndure 429 burst",
        "two-tier",
        _all(_arm("machines", "429", 3), _arm("job", "429", 3, retryAfterSeconds=1)),
        S,
    ),
    FaultCase(
        "CloudEndure 5xx burst",
        "two-tier",
        _all(_arm("machines", "502", 2), _arm("job", "500", 3), _arm("pointsintime", "503", 2)),
        S,
    ),
    FaultCase("dropped connections", "two-tier", _all(_arm("machines", "drop", 2), _arm("job", "drop", 2)), S),
    FaultCase("flaky-api scenario (mixed bursts)", "flaky-api", None, S),
    FaultCase("answer slower than the client timeout", "two-tier", _arm("job", "delay", 1, delaySeconds=3), S),
    FaultCase("session expiry in the middle of polling", "session-expiry", None, S),
    FaultCase("sessions expired before the run", "two-tier", _expire_sessions_at_launch, S),
    FaultCase(
        "launch answer lost after the launch took effect", "two-tier", _arm("launchMachines", "drop-after", 1), S
    ),
    FaultCase("job history of every job type, an unknown step and status", "job-history", None, S),
    FaultCase(
        "CloudEndure down for good",
        "two-tier",
        _arm("machines", "503", 1000),
        F,
        "ServiceUnavailable",
        "still answered HTTP 503",
    ),
    FaultCase(
        "409: an earlier launch is running", "stuck-job", _earlier_launch, F, "JobAlreadyRunning", "already running"
    ),
    FaultCase("job FAILED", "job-fails", None, F, "JobFailed", "Conversion of machine WebServer failed"),
    FaultCase("job stuck beyond the timeout", "stuck-job", None, F, "JobTimedOut", "the job timeout is 1800s"),
    FaultCase("only some machines launched", "partial-launch", None, F, "LaunchIncomplete", "missing: DBServer"),
    FaultCase(
        "replica without a public IP, none in EC2",
        "no-public-ip",
        None,
        F,
        "TargetNotFound",
        "neither in CloudEndure nor in EC2",
    ),
    FaultCase(
        "webserver launch failed, an earlier drill's target answers",
        "stale-replica",
        None,
        F,
        "TargetNotFromThisJob",
        "not at one created by job",
    ),
    FaultCase(
        "landing page redirects to another address",
        "redirecting-landing",
        None,
        F,
        "TargetUnhealthy",
        "redirects to 127.0.9.9, not the probed address",
    ),
    FaultCase(
        "landing page with the wrong text",
        "two-tier",
        _landing(body="<h1>It works!</h1> default Apache page"),
        F,
        "TargetUnhealthy",
        "lacks",
    ),
    FaultCase(
        "landing page too slow", "two-tier", _landing(delaySeconds=3), F, "TargetUnhealthy", "no answer within 2s"
    ),
]


def _drs_fault(operation: str, count: int, **spec: Any) -> Prepare:
    """The local DRS's next `count` calls of `operation` misbehave (local.drs.FaultSpec)."""

    def prepare(env: LocalFailoverEnvironment) -> None:
        body = {"operation": operation, "count": count, **spec}
        requests.post(f"{env.emulator.admin_url}/faults", json=body, timeout=5).raise_for_status()

    return prepare


# The same questions asked of "provider": "drs" against the local DRS (make reliability runs both).
DRS_FAULT_MATRIX: list[FaultCase] = [
    *PROVIDER_NEUTRAL_FAULTS,
    FaultCase(
        "DRS throttling burst",
        "two-tier",
        _all(
            _drs_fault("DescribeSourceServers", 3, errorType="ThrottlingException", retryAfterSeconds=1),
            _drs_fault("DescribeJobs", 3, errorType="ThrottlingException", retryAfterSeconds=1),
        ),
        S,
    ),
    FaultCase(
        "DRS 5xx burst",
        "two-tier",
        _all(_drs_fault("DescribeSourceServers", 2, status=503), _drs_fault("DescribeJobLogItems", 2, status=502)),
        S,
    ),
    FaultCase(
        "dropped connections",
        "two-tier",
        _all(_drs_fault("DescribeSourceServers", 2, drop=True), _drs_fault("DescribeJobs", 2, drop=True)),
        S,
    ),
    FaultCase("flaky-api scenario (throttling, 5xx)", "flaky-api", None, S),
    FaultCase(
        "DRS down for good",
        "two-tier",
        _drs_fault("DescribeSourceServers", 1000, status=503),
        F,
        "ServiceUnavailable",
        "503",
    ),
    FaultCase(
        "access denied",
        "two-tier",
        _drs_fault("DescribeSourceServers", 1000, errorType="AccessDeniedException"),
        F,
        "AccessDenied",
        "AccessDeniedException",
    ),
    FaultCase("DRS not initialized", "uninitialized", None, F, "ServiceNotInitialized", "initialize"),
    FaultCase("lagging replication", "lagging", None, F, "ReplicationNotReady", "DBServer"),
    FaultCase("a server's launch FAILED", "job-fails", None, F, "JobFailed", "Launch FAILED for WebServer"),
    FaultCase("job stuck beyond the timeout", "stuck-job", None, F, "JobTimedOut", "the job timeout is 1800s"),
]


def run_case(env: LocalFailoverEnvironment, case: FaultCase) -> tuple[ExecutionResult, Verdict]:
    env.reset_site(case.scenario)
    try:
        if case.prepare is not None:
            case.prepare(env)
        result = env.executions.run({"requestedBy": "fault-matrix", "reason": case.name}, timeout=240)
    finally:
        env.aws.clear_faults("route53", "ChangeResourceRecordSets")
    return result, judge(env, case, result)


def judge(env: LocalFailoverEnvironment, case: FaultCase, result: ExecutionResult) -> Verdict:
    launches = env.provider.launches_accepted
    record = env.site.record_values()
    messages = env.site.notifications()
    failures = [m for m in messages if m["subject"].endswith("failed")]
    summary = result.output or {}
    address = summary.get("recoveredAddress")
    healthy_switch = address is not None and record == [address] and _serves_landing_page(env, address)
    problems: list[str] = []
    if result.status == "SUCCEEDED" and healthy_switch and launches == 1:
        outcome = Outcome.SURVIVED
    elif (
        result.status == "FAILED"
        and record == [PRIMARY_ADDRESS]
        and launches <= 1
        and len(failures) == 1
        and result.error is not None
        and result.error in failures[0]["message"]
    ):
        outcome = Outcome.FAILED_LOUDLY
        if case.error and result.error != case.error:
            problems.append(f"failed as {result.error}, expected {case.error}")
        if case.cause_words and case.cause_words not in failures[0]["message"]:
            problems.append(f"the failure message does not say {case.cause_words!r}")
    else:
        outcome = Outcome.SILENT
        problems.append(
            f"status {result.status}, error {result.error}, DNS {record}, launches {launches}, failure messages {len(failures)}"
        )
    unhealthy_switch = record != [PRIMARY_ADDRESS] and not (len(record) == 1 and _serves_landing_page(env, record[0]))
    return Verdict(case, outcome, launches, unhealthy_switch, problems)


def _serves_landing_page(env: LocalFailoverEnvironment, address: str) -> bool:
    assert env.config is not None
    try:
        url = f"http://{address}:{env.provider.landing_port}{env.config.health_check.path}"
        page = requests.get(url, timeout=5, allow_redirects=False)  # the address itself must serve it
    except requests.RequestException:
        return False
    return page.status_code == 200 and env.config.health_check.expected_text in page.text
