"""`dr-autopilot` — start, follow and understand a failover without reading code.

  dr-autopilot status                       machines, replication state, lag, ready? last readiness verdict
  dr-autopilot failover [--point-in-time T] [--mode recovery|drill] [--dry-run] [--force] [--watch]
  dr-autopilot watch EXECUTION              live progress until it ends
  dr-autopilot report EXECUTION             phases, RTO timeline, actual vs objective
  dr-autopilot approve|reject (--token T | EXECUTION)
  dr-autopilot drill-cleanup EXECUTION      end a drill's hold now: its instances are terminated, its record put back
  dr-autopilot unlock [--mode recovery|drill]   last resort: remove a lock whose holder has ended

Against AWS it uses your credentials, the state machine named by --state-machine-arn (or
DR_AUTOPILOT_STATE_MACHINE_ARN, or the one whose name contains FailoverStateMachine) and the
configuration in cdk.json. With --local it runs the same commands against a local drill
environment started for the command. Exit codes: 0 success, 1 failover failed or machines not
ready, 2 a usage or configuration problem, 3 AWS or CloudEndure unreachable.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError
from dr_autopilot import history
from dr_autopilot.config import CONTEXT_KEY, ConfigError, FailoverConfig
from dr_autopilot.errors import ProviderError
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.states import PHASES

from dr_autopilot_cli import operations, render
from dr_autopilot_cli.html_report import write_html
from dr_autopilot_cli.operations import CliError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3
# Step Functions' answers to an ARN or token the operator typed wrong: a usage problem, not an outage.
NOT_FOUND_OR_INVALID = {"ExecutionDoesNotExist", "InvalidArn", "InvalidToken", "TaskDoesNotExist", "TaskTimedOut"}
LOCAL_BACKEND = "local.cli_backend"  # the drill environment plugs in here, only with --local


@dataclass
class Backend:
    states: Any
    state_machine_arn: str
    config: FailoverConfig
    cloudendure: CloudEndureClient
    lock_table: str | None = None  # found from the state machine's stack when not given
    dynamodb: Any = None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dr-autopilot", description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--config", default="cdk.json", help="cdk.json with the drAutopilot configuration (default ./cdk.json)"
    )
    parser.add_argument("--state-machine-arn", default=os.environ.get("DR_AUTOPILOT_STATE_MACHINE_ARN"))
    parser.add_argument(
        "--local", action="store_true", help="run against a local drill environment (emulator + local AWS)"
    )
    parser.add_argument("--scenario", default="two-tier", help="with --local: the emulator scenario")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("status", help="machines with replication state, lag and readiness")
    failover = commands.add_parser("failover", help="start a failover")
    failover.add_argument(
        "--point-in-time", default="latest", help="'latest' or an ISO-8601 timestamp with a time zone"
    )
    failover.add_argument("--mode", choices=["recovery", "drill"], default="recovery")
    failover.add_argument("--dry-run", action="store_true")
    failover.add_argument("--force", action="store_true", help="go ahead even if replication is not ready")
    failover.add_argument("--reason", default="")
    failover.add_argument("--requested-by", default=os.environ.get("USER", "on-call"))
    failover.add_argument("--watch", action="store_true", help="follow it until it ends")
    for name in ("watch", "report"):
        command = commands.add_parser(name, help=f"{name} an execution")
        command.add_argument("execution", help="execution ARN")
        if name == "report":
            command.add_argument(
                "--html", metavar="FILE", help="also write the report as a self-contained HTML page (timeline chart)"
            )
    for name in ("approve", "reject"):
        command = commands.add_parser(name, help=f"{name} an alarm-started failover waiting for approval")
        command.add_argument("execution", nargs="?", help="execution ARN (or give --token)")
        command.add_argument("--token", help="the task token from the approval message")
        command.add_argument("--reason", default="")
        command.add_argument("--by", default=os.environ.get("USER", "on-call"))
    cleanup = commands.add_parser(
        "drill-cleanup", help="end a drill's hold now: the workflow terminates its instances and puts its record back"
    )
    cleanup.add_argument("execution", help="execution ARN of the drill")
    cleanup.add_argument("--by", default=os.environ.get("USER", "on-call"))
    unlock = commands.add_parser(
        "unlock", help="last resort: remove a lock whose holder has ended (refused while it runs)"
    )
    unlock.add_argument("--mode", choices=["recovery", "drill"], default="recovery", help="which lock")
    unlock.add_argument("--lock-table", default=os.environ.get("DR_AUTOPILOT_LOCK_TABLE"))
    return parser


@contextlib.contextmanager
def _backend(args: argparse.Namespace) -> Iterator[Backend]:
    if args.local:
        # The test harness plugs into the CLI, never the other way round: imported only here.
        with importlib.import_module(LOCAL_BACKEND).local_backend(args.scenario) as backend:
            yield backend
        return
    import boto3
    from dr_autopilot.providers.cloudendure.secret import api_token

    path = Path(args.config)
    if not path.is_file():
        raise CliError(f"no configuration at {path}: run from the project folder or give --config")
    config = FailoverConfig.parse(
        json.loads(path.read_text()).get("context", {}).get(CONTEXT_KEY), source=f"{path}:{CONTEXT_KEY}"
    )
    states = boto3.client("stepfunctions")
    arn = args.state_machine_arn or _discover(states)
    assert config.cloudendure is not None  # the configuration requires the section for this provider
    secret = config.cloudendure.api_token_secret_name
    yield Backend(
        states,
        arn,
        config,
        CloudEndureClient(api_token=lambda: api_token(secret), base_url=config.cloudendure.api_url),
    )


def _discover(states: Any) -> str:
    machines = [
        m
        for page in states.get_paginator("list_state_machines").paginate()
        for m in page["stateMachines"]
        if "FailoverStateMachine" in m["name"]
    ]
    if len(machines) != 1:
        raise CliError(
            f"found {len(machines)} state machines named like FailoverStateMachine; give --state-machine-arn"
        )
    return str(machines[0]["stateMachineArn"])


def main(argv: list[str] | None = None, backend: Backend | None = None, out: TextIO | None = None) -> int:
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    try:
        if backend is not None:
            return _run(args, backend, out)
        with _backend(args) as made:
            return _run(args, made, out)
    except (CliError, ConfigError) as error:
        print(f"dr-autopilot: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in NOT_FOUND_OR_INVALID:
            print(f"dr-autopilot: {error.response['Error'].get('Message') or error}", file=sys.stderr)
            return EXIT_USAGE
        print(f"dr-autopilot: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (ProviderError, BotoCoreError) as error:
        print(f"dr-autopilot: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_UNREACHABLE


def _run(args: argparse.Namespace, backend: Backend, out: TextIO) -> int:
    if args.command == "status":
        return _status(backend, args.json, out)
    if args.command == "failover":
        body = operations.failover_input(
            args.mode, args.point_in_time, args.force, args.dry_run, args.requested_by, args.reason
        )
        arn = operations.start(backend.states, backend.state_machine_arn, body)
        if not args.watch:
            print(json.dumps({"executionArn": arn}) if args.json else f"started {arn}", file=out)
            return EXIT_OK
        return _watch(backend, arn, args.json, out)
    if args.command == "watch":
        return _watch(backend, args.execution, args.json, out)
    if args.command == "report":
        return _report(backend, args.execution, args.json, out, args.html)
    if args.command == "unlock":
        return _unlock(backend, args, out)
    if args.command == "drill-cleanup":
        operations.end_drill_hold(backend.states, args.execution, args.by)
        print(
            json.dumps({"cleanup": "requested"})
            if args.json
            else "hold ended: the drill is being cleaned up (follow it with: dr-autopilot watch EXECUTION)",
            file=out,
        )
        return EXIT_OK
    token = args.token or (
        operations.pending_approval_token(backend.states, args.execution) if args.execution else None
    )
    if not token:
        raise CliError("give the execution ARN or --token")
    operations.answer_approval(
        backend.states, token, approve=args.command == "approve", who=args.by, reason=args.reason
    )
    print(json.dumps({"answered": args.command}) if args.json else f"{args.command}d", file=out)
    return EXIT_OK


def _unlock(backend: Backend, args: argparse.Namespace, out: TextIO) -> int:
    import boto3
    from dr_autopilot.clients.lock import DynamoDbFailoverLock
    from dr_autopilot.clients.stepfunctions import StepFunctionsHistory
    from dr_autopilot.models import Mode

    table = args.lock_table or backend.lock_table or _discover_lock_table(backend.state_machine_arn)
    lock = DynamoDbFailoverLock(table, backend.dynamodb or boto3.client("dynamodb"))
    done = operations.unlock(lock, StepFunctionsHistory(backend.states), Mode(args.mode))
    print(json.dumps({"unlocked": done}) if args.json else done, file=out)
    return EXIT_OK


def _discover_lock_table(state_machine_arn: str) -> str:
    """The lock table of the stack that made the state machine (CloudFormation knows both)."""
    import boto3

    cloudformation = boto3.client("cloudformation")
    owner = cloudformation.describe_stack_resources(PhysicalResourceId=state_machine_arn)["StackResources"]
    tables = [
        resource["PhysicalResourceId"]
        for resource in cloudformation.describe_stack_resources(StackName=owner[0]["StackName"])["StackResources"]
        if resource["ResourceType"] == "AWS::DynamoDB::Table" and "Lock" in resource["LogicalResourceId"]
    ]
    if len(tables) != 1:
        raise CliError(f"found {len(tables)} lock tables in the stack; give --lock-table")
    return str(tables[0])


def _status(backend: Backend, as_json: bool, out: TextIO) -> int:
    rows = operations.machine_status(backend.cloudendure, backend.config)
    readiness = _last_readiness(backend)
    if as_json:
        print(json.dumps({"machines": [asdict(row) for row in rows], "lastReadiness": readiness.to_json()}), file=out)
    else:
        render.status(rows, out, readiness)
    return EXIT_OK if all(row.ready for row in rows) else EXIT_FAILED


def _last_readiness(backend: Backend) -> operations.LastReadiness:
    """The last readiness verdict, from the lock table (found in the stack unless given)."""
    import boto3
    from dr_autopilot.clients.lock import DynamoDbReadinessRecord

    try:
        table = backend.lock_table or _discover_lock_table(backend.state_machine_arn)
        record = DynamoDbReadinessRecord(table, backend.dynamodb or boto3.client("dynamodb"))
    except (CliError, ClientError, BotoCoreError) as error:
        return operations.LastReadiness(None, f"could not be read (lock table: {error})")
    return operations.last_readiness(record, backend.config)


def _watch(backend: Backend, arn: str, as_json: bool, out: TextIO) -> int:
    started = time.monotonic()
    final: history.Progress | None = None
    view = render.Watch(out, total=len(PHASES)) if not as_json else None
    with view if view is not None else contextlib.nullcontext():
        for progress in history.follow(backend.states, arn):
            elapsed = time.monotonic() - started
            if view is None:
                print(
                    json.dumps(
                        {
                            "phase": progress.phase,
                            "status": progress.status,
                            "elapsedSeconds": round(elapsed, 1),
                            "jobLog": progress.new_lines,
                        }
                    ),
                    file=out,
                )
            else:
                view.update(progress, elapsed)
            final = progress
    assert final is not None  # follow() yields at least the end
    if final.status == "SUCCEEDED":
        headline = (final.output or {}).get("headline", "succeeded")
        print(json.dumps({"status": "SUCCEEDED", "summary": final.output}) if as_json else headline, file=out)
        return EXIT_OK
    print(
        json.dumps({"status": final.status, "error": final.error, "cause": final.cause})
        if as_json
        else f"{final.status}: {final.error}: {history.error_message(final.cause)}",
        file=out,
    )
    return EXIT_FAILED


def _report(backend: Backend, arn: str, as_json: bool, out: TextIO, html_file: str | None = None) -> int:
    result = operations.report(backend.states, arn, backend.config)
    if html_file:
        write_html(result, Path(html_file))
    if as_json:
        print(json.dumps({**asdict(result), "within_objective": result.within_objective}), file=out)
    else:
        render.report(result, out)
    return EXIT_OK if result.status == "SUCCEEDED" else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
