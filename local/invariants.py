"""The safety invariants (README "Safety invariants"), each judged over runs of the local drill.

`make reliability` prints one row per invariant: the cases tried and the violations, which must
be 0. Three are judged over every run the reliability run makes (the fault matrix, every end,
the throttled runs): where DNS moved (provenance, an honest probe) and what the summary says about
the way back. The others have cases of their own below, each built to break the invariant if it
did not hold: a drill and a recovery at the same time, a dead lock holder, problems a dry run must
find before a launch, bad configuration, a rotated token, a job history the client has never seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from dr_autopilot.config import CONTEXT_KEY, ConfigError, FailoverConfig
from dr_autopilot.states import StateName

from local.environment import PRIMARY_ADDRESS, ExecutionResult, LocalFailoverEnvironment, base_context, merge
from local.events import alarm_event

INVARIANTS = (
    "1 target provenance",
    "2 an honest probe",
    "3 drills and recoveries never block each other",
    "4 truthful reports",
    "5 everything checkable is checked before a launch",
    "6 strict configuration",
    "7 credentials",
    "8 the way back",
    "9 tolerant reading",
)


@dataclass
class Tally:
    """One invariant: how many cases judged it, and each violation found."""

    invariant: str
    tried: int = 0
    violations: list[str] = field(default_factory=list)

    def judge(self, case: str, problem: str | None) -> None:
        self.tried += 1
        if problem:
            self.violations.append(f"{case}: {problem}")


def tallies() -> dict[str, Tally]:
    return {name: Tally(name) for name in INVARIANTS}


# ------------------------------------------------------------------ judged over every run
def _launch_job(result: ExecutionResult) -> str | None:
    outputs = result.state_outputs(StateName.LAUNCH_RECOVERY)
    launch = outputs[-1].get("launch") if outputs else None
    return str(launch["jobId"]) if launch else None


def provenance_problem(env: LocalFailoverEnvironment, result: ExecutionResult, record_name: str) -> str | None:
    """DNS is on the primary, or on the target that this execution's own job created."""
    record = env.site.record_values(record_name)
    if record in ([], [PRIMARY_ADDRESS]):
        return None
    job_id = _launch_job(result)
    job = env.emulator.account.jobs.get(job_id) if job_id else None
    if job is None:
        return f"{record_name} -> {record}, but this execution started no job"
    created = [
        replica
        for replica in env.emulator.account.replicas.all()
        if replica.machine_id in job.machine_ids and replica.created_at >= job.created_at
    ]
    if not any(record == replica.public_ips for replica in created):
        return f"{record_name} -> {record}, not a target created by job {job_id}"
    return None


def honest_probe_problem(env: LocalFailoverEnvironment, record_name: str) -> str | None:
    """DNS is on the primary, or on an address that itself serves the expected landing page."""
    record = env.site.record_values(record_name)
    if record in ([], [PRIMARY_ADDRESS]):
        return None
    config = env.config
    scheme, verify = config.health_check.scheme, False  # the address itself, whatever its certificate
    url = f"{scheme}://{record[0]}:{env.emulator.landing_port}{config.health_check.path}"
    try:
        page = requests.get(url, timeout=5, allow_redirects=False, verify=verify)
    except requests.RequestException as error:
        return f"{record_name} -> {record}, which does not answer: {type(error).__name__}"
    if page.status_code != 200 or config.health_check.expected_text not in page.text:
        return f"{record_name} -> {record}, which answers HTTP {page.status_code} without the expected page"
    return None


def way_back_problem(result: ExecutionResult) -> str | None:
    """A run that switched DNS reports the value it switched from: the primary's."""
    summary = result.output or {}
    if summary.get("outcome") != "SUCCEEDED" or not summary.get("recoveredAddress"):
        return None
    before = (summary.get("recordBefore") or {}).get("values")
    if before != [PRIMARY_ADDRESS]:
        return f"the summary's way back is {before}, not the primary {PRIMARY_ADDRESS}"
    return None


def judge_run(board: dict[str, Tally], env: LocalFailoverEnvironment, case: str, result: ExecutionResult) -> None:
    """Judge invariants 1, 2 and 8 on a run that has just ended (the site as it left it)."""
    record_name = env.config.dns.record_name
    board[INVARIANTS[0]].judge(case, provenance_problem(env, result, record_name))
    board[INVARIANTS[1]].judge(case, honest_probe_problem(env, record_name))
    board[INVARIANTS[7]].judge(case, way_back_problem(result))


# ------------------------------------------------------------------------ cases of their own
def _launched(result: ExecutionResult) -> str | None:
    if StateName.LAUNCH_RECOVERY not in result.entered_states or result.status != "SUCCEEDED":
        return f"the recovery did not launch and succeed: {result.status}, {result.error}: {result.cause}"
    return None


def _drill_then_alarm(env: LocalFailoverEnvironment) -> str | None:
    env.reset_site("two-tier")
    drill = env.executions.run({"mode": "drill", "requestedBy": "invariants"}, end_hold_as="invariants")
    if drill.status != "SUCCEEDED":
        return f"the drill itself failed: {drill.error}"
    (arn,) = env.executions.deliver_event(alarm_event("www-example-com-down"))
    return _launched(env.executions.wait(arn))


def _alarm_during_a_drill(env: LocalFailoverEnvironment) -> str | None:
    env.reset_site("two-tier")
    env.aws.runtime.stall(StateName.HEALTH_CHECK, seconds=60)  # the drill holds its lock meanwhile
    drill = env.executions.start({"mode": "drill", "requestedBy": "invariants"})
    env.executions.wait_until_entered(drill, StateName.HEALTH_CHECK)
    (arn,) = env.executions.deliver_event(alarm_event("www-example-com-down"))
    problem = _launched(env.executions.wait(arn))
    env.aws.client("stepfunctions").stop_execution(executionArn=drill)
    env.executions.wait(drill)
    env.aws.runtime.disarm()
    return problem


def _console_after_a_dead_holder(env: LocalFailoverEnvironment) -> str | None:
    env.reset_site("two-tier")
    env.aws.runtime.stall(StateName.CHECK_REPLICATION, seconds=60)
    arn = env.executions.start({"requestedBy": "invariants"})
    env.executions.wait_until_entered(arn, StateName.CHECK_REPLICATION)
    env.aws.client("stepfunctions").stop_execution(executionArn=arn)
    env.executions.wait(arn, deliver_end=False)  # its end event lost: the lock still says RUNNING
    env.aws.runtime.disarm()
    return _launched(env.executions.run({"requestedBy": "invariants", "reason": "after the abort"}))


BLOCKING_CASES: list[tuple[str, Callable[[LocalFailoverEnvironment], str | None]]] = [
    ("alarm right after a drill", _drill_then_alarm),
    ("alarm during a drill", _alarm_during_a_drill),
    ("console start after an aborted run whose end event was lost", _console_after_a_dead_holder),
]

# One configuration for every pre-launch case: every machine of the project ("all"), and a record
# that the zone (example.com) does not hold. Each scenario trips the first check it reaches.
PRE_LAUNCH_OVERRIDES = {CONTEXT_KEY: {"machines": "all", "dns": {"recordName": "www.example.org"}}}
PRE_LAUNCH_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("renamed-webserver", {}, "MachineNotFound", "not in project 'DR-Autopilot-Workshop': WebServer"),
    ("empty-project", {}, "MachineNotFound", "has no machines: there is nothing to recover"),
    (
        "duplicate-names",
        {},
        "AmbiguousMachineName",
        "more than one machine in project 'DR-Autopilot-Workshop' is named 'WebServer'",
    ),
    ("two-tier", {"pointInTime": "2001-01-01T00:00:00Z"}, "NoPointInTime", "machine DBServer"),
    ("two-tier", {}, "RecordOutsideZone", "dns.recordName 'www.example.org' is not inside hosted zone example.com"),
]


def pre_launch_problem(
    env: LocalFailoverEnvironment, scenario: str, extra_input: dict[str, Any], error: str, words: str
) -> str | None:
    """A dry run in `scenario` fails with `error` saying `words`, before any launch, and says so."""
    env.reset_site(scenario)
    result = env.executions.run({"dryRun": True, "requestedBy": "invariants", **extra_input})
    finals = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    if (result.status, result.error) != ("FAILED", error) or words not in (result.cause or ""):
        return f"{result.status} {result.error}: {result.cause}"
    if StateName.LAUNCH_RECOVERY in result.entered_states or env.emulator.account.launches_accepted:
        return "a launch was started"
    if len(finals) != 1 or error not in finals[0]["message"]:
        return f"{len(finals)} failure message(s) naming the error"
    return None


# Configuration a synth must refuse, naming the key (FailoverConfig.parse is what app.py runs).
BAD_CONFIGURATIONS: list[tuple[str, dict[str, Any], str]] = [
    ("a boolean where a number belongs", {"job": {"timeoutSeconds": True}}, "job.timeoutSeconds"),
    ("a number written as text", {"healthCheck": {"port": "8080"}}, "healthCheck.port"),
    ("a plain-HTTP API off this machine", {"cloudendure": {"apiUrl": "http://api.example.com/api"}}, "apiUrl"),
    ("user info in the API URL", {"cloudendure": {"apiUrl": "https://x@evil.example/api"}}, "apiUrl"),
    ("the drill record is production's", {"dns": {"drillRecordName": "WWW.Example.com."}}, "drillRecordName"),
    ("a blank expected text", {"healthCheck": {"expectedText": "   "}}, "healthCheck.expectedText"),
    ("an unknown key", {"healthcheck": {"port": 80}}, "healthcheck"),
    ("a readiness rate written as text", {"readiness": {"rateMinutes": "60"}}, "readiness.rateMinutes"),
    ("a readiness rate below five minutes", {"readiness": {"rateMinutes": 1}}, "readiness.rateMinutes"),
    ("readiness switched off with a number", {"readiness": {"enabled": 0}}, "readiness.enabled"),
    ("webserver not among the machines", {"webserverMachine": "Web01"}, "webserverMachine"),
    ("a DRS provider without its section", {"provider": "drs"}, "drs"),
    (
        "hostnames where DRS source server IDs are configured",
        {"provider": "drs", "drs": {"identifyBy": "sourceServerId"}},
        "drs.identifyBy",
    ),
]


def bad_configuration_problem(overrides: dict[str, Any], key: str) -> str | None:
    try:
        FailoverConfig.parse(merge(base_context(), {CONTEXT_KEY: overrides})[CONTEXT_KEY])
    except ConfigError as error:
        return None if key in str(error) else f"refused without naming {key}: {error}"
    return "accepted"


def rotated_token_problem(env: LocalFailoverEnvironment) -> str | None:
    """The API token rotated while the functions are warm with the old one: the run still works."""
    env.reset_site("two-tier")
    if env.executions.run({"requestedBy": "invariants"}).status != "SUCCEEDED":
        return "the run before the rotation failed"
    env.emulator.reset("two-tier")  # a fresh site, but the functions stay warm with the old token
    env.site.reset()
    assert env.config.cloudendure is not None
    new = env.emulator.api_token + "-rotated"
    env.aws.client("secretsmanager").put_secret_value(
        SecretId=env.config.cloudendure.api_token_secret_name, SecretString=new
    )
    env.emulator.rotate_token(new)
    result = env.executions.run({"requestedBy": "invariants", "reason": "after the rotation"})
    return None if result.status == "SUCCEEDED" else f"{result.status} {result.error}: {result.cause}"


def tolerant_reading_problem(env: LocalFailoverEnvironment) -> str | None:
    """A job history of every job type, and a step the client has never seen, stop nothing."""
    env.reset_site("job-history")
    result = env.executions.run({"requestedBy": "invariants"})
    return _launched(result)
