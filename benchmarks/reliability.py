"""The reliability figures: `make reliability` (python benchmarks/reliability.py).

Runs the fault matrix, every way an execution can end (with and without Lambda throttling), an
alarm storm, the safety invariants' own cases (local/invariants.py: one row per invariant, cases
tried and violations), 1,000 seeded hostile inputs, a secret-leak scan over everything the runs
recorded, and cdk-nag; then the fault matrix (DRS's own faults), every end, the throttled runs
and the storm again with "provider": "drs" against the local DRS; prints a table; exits non-zero
if a 'must' fails.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dr_autopilot.errors import InvalidInput
from dr_autopilot.logic.validate_input import validate_input
from dr_autopilot.models import ValidateInputEvent
from dr_autopilot.states import StateName
from jsonschema import Draft202012Validator, FormatChecker

from local.ends import END_CASES, THROTTLE_CASES, EndVerdict, run_end
from local.environment import LocalFailoverEnvironment, base_context
from local.events import alarm_event
from local.faults import DRS_FAULT_MATRIX, FAULT_MATRIX, Outcome, run_case
from local.invariants import (
    BAD_CONFIGURATIONS,
    BLOCKING_CASES,
    INVARIANTS,
    PRE_LAUNCH_CASES,
    PRE_LAUNCH_OVERRIDES,
    Tally,
    bad_configuration_problem,
    judge_run,
    pre_launch_problem,
    rotated_token_problem,
    tallies,
    tolerant_reading_problem,
)
from local.leaks import everything_recorded, scan
from local.schema import SCHEMA_FILE

TIME_SCALE = 240.0
HOSTILE_INPUTS = 1000
POOLS: dict[str, list[Any]] = {
    "mode": ["recovery", "drill", "RECOVERY", "failback", "", 1, None, ["drill"]],
    "pointInTime": [
        "latest",
        " latest ",
        "2026-11-25T02:50:00Z",
        "2026-11-25T02:50:00+05:30",
        "2026-11-25T02:50:00",
        "yesterday",
        "1732500000",
        1732500000,
        "2999-01-01T00:00:00Z",
        "2026-13-45T99:99:99Z",
        None,
        {"at": "now"},
    ],
    "force": [True, False, "true", 1, None],
    "dryRun": [True, False, "no", 0],
    "requestedBy": [
        "alice",
        "bob@example.com",
        "",
        "x" * 500,
        "'; DROP TABLE x; --",
        "$(rm -rf /)",
        "<script>",
        "alice\nbob",
        42,
    ],
    "reason": ["primary down", "", "r" * 5000, "{{7*7}}", None, ["a"]],
    "alarm": [
        {"name": "site-down"},
        {"name": "site-down", "time": "noon"},
        {"reason": "no name"},
        {"name": "<img src=x>"},
        "site-down",
    ],
    "target": ["www"],
    "Mode": ["recovery"],
    "__proto__": [{}],
}


def hostile_inputs(count: int, seed: int = 20261125) -> list[Any]:
    generator = random.Random(seed)
    inputs: list[Any] = []
    for _ in range(count):
        if generator.random() < 0.05:
            inputs.append(generator.choice([None, [], [1, 2], "recovery", 7, True]))
            continue
        keys = generator.sample(list(POOLS), generator.randint(0, 4))
        inputs.append({key: generator.choice(POOLS[key]) for key in keys})
    return inputs


def hostile_figures() -> dict[str, int]:
    schema = Draft202012Validator(json.loads(SCHEMA_FILE.read_text()), format_checker=FormatChecker())
    now = datetime.now(UTC)
    figures = {
        "tried": 0,
        "rejected naming the field": 0,
        "accepted (valid)": 0,
        "accepted although invalid": 0,
        "other outcome": 0,
    }
    for raw in hostile_inputs(HOSTILE_INPUTS):
        figures["tried"] += 1
        event = ValidateInputEvent.model_validate(
            {"input": raw, "execution": {"id": "x", "name": "x", "startTime": now.isoformat()}}
        )
        try:
            validate_input(event)
        except InvalidInput as refused:
            named = (
                any(str(key) in str(refused) for key in raw) if isinstance(raw, dict) else "JSON object" in str(refused)
            )
            figures["rejected naming the field" if named else "other outcome"] += 1
            continue
        except Exception:  # noqa: BLE001 - counting anything that is not a clean refusal
            figures["other outcome"] += 1
            continue
        figures[
            "accepted (valid)"
            if isinstance(raw, dict) and not list(schema.iter_errors(raw))
            else "accepted although invalid"
        ] += 1
    return figures


def storm_launches(env: LocalFailoverEnvironment) -> tuple[int, int]:
    env.reset_site("two-tier")
    events = [alarm_event("www-example-com-down", time=f"2026-11-25T03:00:{s:02d}Z") for s in range(0, 60, 3)]
    started: list[str] = []
    threads = [threading.Thread(target=lambda e=e: started.extend(env.executions.deliver_event(e))) for e in events[:5]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for event in events[5:]:
        started += env.executions.deliver_event(event)
        time.sleep(0.05)
    results = [env.executions.wait(arn) for arn in started]
    return env.provider.launches_accepted, sum(1 for r in results if r.entered_states[-1] == StateName.DEDUPLICATED)


def nag_open_findings() -> tuple[int, int]:
    from infrastructure.app import build_app

    with tempfile.TemporaryDirectory() as outdir:
        build_app(context={**base_context(), "aws:cdk:bundling-stacks": []}, outdir=outdir).synth()
        (report,) = Path(outdir).glob("AwsSolutions-*NagReport.csv")
        rows = list(csv.DictReader(report.open()))
    return sum(r["Compliance"] == "Non-Compliant" for r in rows), sum(r["Compliance"] == "Suppressed" for r in rows)


def _run_end(env: LocalFailoverEnvironment, case: Any, board: dict[str, Tally] | None) -> EndVerdict:
    """One way to end; judged against the invariants too when a board is given (CloudEndure's:
    the provenance and probe judges read the CloudEndure emulator's records)."""
    verdict, result = run_end(env, case)
    if board is not None:
        judge_run(board, env, case.name, result)
        board[INVARIANTS[3]].judge(case.name, "; ".join(verdict.problems) if verdict.silent else None)
    mark = "FAIL" if verdict.silent else "ok  "
    print(
        f"  {mark} {case.name:<52} {verdict.status}{' ' + '; '.join(verdict.problems) if verdict.problems else ''}",
        flush=True,
    )
    return verdict


def invariant_cases(env: LocalFailoverEnvironment, board: dict[str, Tally]) -> None:
    """The invariants' own cases (the others are judged over every run above)."""
    for name, case in BLOCKING_CASES:
        board[INVARIANTS[2]].judge(name, case(env))
    with env.reconfigured(PRE_LAUNCH_OVERRIDES) as reconfigured:
        for scenario, extra_input, error, words in PRE_LAUNCH_CASES:
            problem = pre_launch_problem(reconfigured, scenario, extra_input, error, words)
            board[INVARIANTS[4]].judge(f"dry run, {scenario} ({error})", problem)
    for what, overrides, key in BAD_CONFIGURATIONS:
        board[INVARIANTS[5]].judge(what, bad_configuration_problem(overrides, key))
    board[INVARIANTS[6]].judge("API token rotated while the functions are warm", rotated_token_problem(env))
    board[INVARIANTS[8]].judge("job history of every job type, unknown step", tolerant_reading_problem(env))
    for tally in board.values():
        print(
            f"  {'ok  ' if not tally.violations else 'FAIL'} invariant {tally.invariant}: {tally.tried} cases",
            flush=True,
        )


def drs_figures() -> list[tuple[str, int, int | None]]:
    """The fault matrix, every end, throttled runs and the alarm storm with "provider": "drs"."""
    print(f"\nThe same with the local DRS: fault matrix ({len(DRS_FAULT_MATRIX)} cases), ends, storm", flush=True)
    with LocalFailoverEnvironment("two-tier", provider="drs", time_scale=TIME_SCALE) as env:
        verdicts = []
        for case in DRS_FAULT_MATRIX:
            _, verdict = run_case(env, case)
            verdicts.append(verdict)
            mark = "ok  " if verdict.as_expected else "FAIL"
            problems = " " + "; ".join(verdict.problems) if verdict.problems else ""
            print(f"  {mark} {case.name:<52} {verdict.outcome.value}{problems}", flush=True)
        ends = [_run_end(env, case, None) for case in END_CASES]
        throttled = [_run_end(env, case, None) for case in THROTTLE_CASES]
        storm, deduplicated = storm_launches(env)
    return [
        ("DRS: faults injected", len(verdicts), None),
        ("  survived within bounds", sum(v.outcome is Outcome.SURVIVED for v in verdicts), None),
        (
            "  failed loudly (named error, SNS cause, DNS unchanged)",
            sum(v.outcome is Outcome.FAILED_LOUDLY for v in verdicts),
            None,
        ),
        ("  silent", sum(v.outcome is Outcome.SILENT for v in verdicts), 0),
        ("  outcome other than the expected one", sum(not v.as_expected for v in verdicts), 0),
        ("  DNS switches to unhealthy targets", sum(v.dns_changed_to_unhealthy for v in verdicts), 0),
        ("DRS: silent ends: cases tried", len(ends), None),
        ("  silent (not exactly one truthful final message)", sum(v.silent for v in ends), 0),
        ("DRS: throttled runs (a 429 on every task's first call)", len(throttled), None),
        ("  runs whose end or final message changed", sum(v.silent for v in throttled), 0),
        ("DRS: launches per incident, alarm storm (20 events)", storm, 1),
        ("  storm executions recorded as duplicates", deduplicated, 19),
    ]


def main() -> int:
    started = time.monotonic()
    print(
        f"Reliability run: fault matrix ({len(FAULT_MATRIX)} cases), {len(END_CASES)} ends, "
        f"{len(THROTTLE_CASES)} throttled runs, alarm storm, {HOSTILE_INPUTS} hostile inputs, leak scan, cdk-nag",
        flush=True,
    )
    messages: list[dict[str, str]] = []
    board = tallies()
    with LocalFailoverEnvironment("two-tier", time_scale=TIME_SCALE) as env:
        verdicts = []
        for case in FAULT_MATRIX:
            result, verdict = run_case(env, case)
            verdicts.append(verdict)
            judge_run(board, env, case.name, result)
            board[INVARIANTS[3]].judge(case.name, "silent" if verdict.outcome is Outcome.SILENT else None)
            mark = "ok  " if verdict.as_expected else "FAIL"
            print(
                f"  {mark} {case.name:<52} {verdict.outcome.value}{' ' + '; '.join(verdict.problems) if verdict.problems else ''}",
                flush=True,
            )
        ends = [_run_end(env, case, board) for case in END_CASES]
        throttled = [_run_end(env, case, board) for case in THROTTLE_CASES]
        storm, deduplicated = storm_launches(env)
        messages += env.site.notifications()
        invariant_cases(env, board)
        leaks = scan(env.emulator.api_token, everything_recorded(env, messages))
    drs_rows = drs_figures()
    retry_cases = [v for v in verdicts if "times out after" in v.case.name or "answer lost" in v.case.name]
    hostile = hostile_figures()
    open_findings, acknowledged = nag_open_findings()
    survived = sum(v.outcome is Outcome.SURVIVED for v in verdicts)
    loud = sum(v.outcome is Outcome.FAILED_LOUDLY for v in verdicts)
    silent = sum(v.outcome is Outcome.SILENT for v in verdicts)
    unexpected = sum(not v.as_expected for v in verdicts)
    invariant_rows = [
        row
        for tally in board.values()
        for row in (
            (f"invariant {tally.invariant}: cases tried", tally.tried, None),
            ("  violations", len(tally.violations), 0),
        )
    ]
    rows = [
        ("faults injected", len(verdicts), None),
        ("  survived within bounds", survived, None),
        ("  failed loudly (named error, SNS cause, DNS unchanged)", loud, None),
        ("  silent", silent, 0),
        ("  outcome other than the expected one", unexpected, 0),
        ("silent ends: cases tried (every way an execution ends)", len(ends), None),
        ("  silent (not exactly one truthful final message)", sum(v.silent for v in ends), 0),
        ("throttling: runs with a 429 on every task's first call", len(throttled), None),
        ("  throttles that reached the workflow", sum(v.throttles for v in throttled), None),
        ("  runs whose end or final message changed", sum(v.silent for v in throttled), 0),
        ("launches per incident, alarm storm (20 events)", storm, 1),
        ("  storm executions recorded as duplicates", deduplicated, 19),
        ("launches per incident under step retries (max)", max(v.launches for v in retry_cases), 1),
        ("DNS switches to unhealthy targets", sum(v.dns_changed_to_unhealthy for v in verdicts), 0),
        ("hostile inputs tried", hostile["tried"], None),
        ("  rejected before any side effect, naming the field", hostile["rejected naming the field"], None),
        ("  accepted (valid per the schema)", hostile["accepted (valid)"], None),
        ("  accepted although invalid", hostile["accepted although invalid"], 0),
        ("  other outcome (crash, unnamed field)", hostile["other outcome"], 0),
        (f"secret leaks found (in {leaks.texts} recorded texts)", len(leaks.hits), 0),
        ("cdk-nag open findings", open_findings, 0),
        ("  cdk-nag findings acknowledged with a reason", acknowledged, None),
        *invariant_rows,
        *drs_rows,
    ]
    print(f"\n{'figure':<72} {'value':>7}  must")
    failed = []
    for name, value, must in rows:
        judgement = "" if must is None else ("ok" if value == must else f"FAIL (must be {must})")
        if must is not None and value != must:
            failed.append(name)
        print(f"{name:<72} {value:>7}  {judgement}")
    print(f"\n{len(failed)} 'must' row(s) failed; {time.monotonic() - started:.0f} s")
    for hit in leaks.hits:
        print(f"  leak: {hit}")
    for tally in board.values():
        for violation in tally.violations:
            print(f"  violation of invariant {tally.invariant}: {violation}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
