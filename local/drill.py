"""The local failover drill: `python -m local.drill [--scenario two-tier]` (or `make drill`).

Starts the CloudEndure emulator and local AWS, synthesizes the real CDK app, deploys its state
machine into moto and executes it with the real handler code, showing progress as it goes and
a report at the end. Exit code 0 only if DNS now points at the healthy recovered webserver.

With `--readiness` it runs what the readiness schedule starts instead (its input read from the
synthesized schedule) and prints the verdict, the metrics the functions emitted and the message
on-call received; exit code 0 only if the site is ready.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from dr_autopilot import history
from dr_autopilot.logic.validate_input import describe
from dr_autopilot.models import FailoverInput
from dr_autopilot.observability import NAMESPACE, ReadinessMetric
from dr_autopilot.states import StateName
from pydantic import ValidationError

from dr_autopilot_cli import operations
from dr_autopilot_cli.html_report import write_html
from dr_autopilot_cli.operations import CliError
from local.cloudendure import ScenarioError, available_scenarios
from local.drs import ScenarioError as DrsScenarioError
from local.drs import available_scenarios as drs_scenarios
from local.environment import PRIMARY_ADDRESS, LocalFailoverEnvironment
from local.providers import PROVIDERS
from local.report import DrillReport, build_report, payload_json, render_report


class Progress:
    """Prints the execution as it happens: states entered, the verdicts, new job-log lines."""

    def __init__(self, scale: float) -> None:
        self.started = time.monotonic()
        self.scale = scale

    def say(self, text: str) -> None:
        print(f"  {time.monotonic() - self.started:6.1f}s  {text}", flush=True)

    def __call__(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            if "stateEnteredEventDetails" in event and event["type"] == "TaskStateEntered":
                self.say(f"> {event['stateEnteredEventDetails']['name']}")
            elif "stateExitedEventDetails" in event:
                self._exited(
                    event["stateExitedEventDetails"]["name"], json.loads(event["stateExitedEventDetails"]["output"])
                )
            elif event["type"] in ("LambdaFunctionFailed", "TaskFailed"):
                details = event.get("lambdaFunctionFailedEventDetails") or event.get("taskFailedEventDetails") or {}
                self.say(f"  ! {details.get('error')}")

    def _exited(self, state: str, output: dict[str, Any]) -> None:
        if state == StateName.CHECK_REPLICATION and "replication" in output:
            r = output["replication"]
            self.say(
                f"  replication: {r['ready']} of {r['total']} machines ready, max lag {r.get('maxLagSeconds')} s (emulated)"
            )
        elif state == StateName.LAUNCH_RECOVERY and "launch" in output:
            self.say(
                f"  launch job {output['launch']['jobId']} ({output['launch']['launchType']}, {output['launch']['machineCount']} machines)"
            )
        elif state == StateName.POLL_JOB and "job" in output:
            for line in output["job"].get("newLogLines", []):
                self.say(f"  job log | {line}")
        elif state == StateName.FIND_TARGETS and "target" in output:
            self.say(
                f"  recovered webserver at {output['target']['address']} (from {output['target']['addressSource']})"
            )
        elif state == StateName.HEALTH_CHECK and "health" in output:
            self.say(f"  landing page: {output['health']['detail']}")
        elif state == StateName.CLEAN_UP_DRILL and "cleanup" in output:
            cleanup = output["cleanup"]
            self.say(
                f"  clean-up: {cleanup['instancesTerminated']} instance(s) terminated; drill record {cleanup['record']}"
            )
        elif state == StateName.UPDATE_DNS and "dns" in output:
            dns = output["dns"]
            self.say(
                "  DNS: "
                + (dns.get("detail") or f"{dns['current']['name']} -> {', '.join(dns['current']['values'])} INSYNC")
            )


DEFAULT_HTML = "drill-report.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.drill", description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=PROVIDERS, default="cloudendure", help="the recovery provider to drill")
    parser.add_argument(
        "--scenario",
        default="two-tier",
        help=f"scenario: CloudEndure {', '.join(available_scenarios())}; DRS {', '.join(drs_scenarios())}",
    )
    parser.add_argument("--time-scale", type=float, default=60.0, help="emulated seconds per real second (default 60)")
    parser.add_argument("--machine-count", type=int, help="machines in the 'large' scenario")
    parser.add_argument("--mode", choices=["recovery", "drill"], default="recovery")
    parser.add_argument("--point-in-time", default="latest", help="'latest' or an ISO-8601 timestamp with a time zone")
    parser.add_argument("--force", action="store_true", help="fail over even if replication is not ready")
    parser.add_argument("--dry-run", action="store_true", help="checks and plan only, no launch")
    parser.add_argument(
        "--readiness",
        action="store_true",
        help="run what the readiness schedule starts (its input from the synthesized schedule): verdict and metrics",
    )
    parser.add_argument("--json", action="store_true", help="print the report's figures as JSON")
    parser.add_argument(
        "--html",
        metavar="FILE",
        default=DEFAULT_HTML,
        help=f"where to write the report as a self-contained HTML page (default {DEFAULT_HTML}; '' for none)",
    )
    args = parser.parse_args(argv)
    try:
        failover_input = FailoverInput(
            mode=args.mode,
            point_in_time=args.point_in_time,
            force=args.force,
            dry_run=args.dry_run,
            requested_by="local drill",
            reason=f"drill of scenario {args.scenario}",
        ).to_execution_input()
    except ValidationError as error:
        print(f"error: invalid failover input: {describe(error)}", file=sys.stderr)
        return 2
    if args.readiness and (args.dry_run or args.force or args.mode != "recovery" or args.point_in_time != "latest"):
        print("error: --readiness runs the schedule's own input; leave out --dry-run, --force, --mode, --point-in-time")
        return 2
    html_folder = Path(args.html).resolve().parent if args.html else None
    if args.html and Path(args.html).is_dir():
        print(f"error: --html {args.html}: is a folder; give a file name", file=sys.stderr)
        return 2
    if html_folder is not None and not (html_folder.is_dir() and os.access(html_folder, os.W_OK)):
        print(f"error: --html {args.html}: {html_folder} is not a folder this drill can write to", file=sys.stderr)
        return 2
    emulator = "local DRS" if args.provider == "drs" else "CloudEndure emulator"
    print(
        f"DR Autopilot local drill: {args.provider}, scenario {args.scenario!r}, emulator time scale {args.time_scale:g}x",
        flush=True,
    )
    print(f"  starting the {emulator} and local AWS, synthesizing the CDK app ...", flush=True)
    try:
        env = LocalFailoverEnvironment(
            args.scenario, provider=args.provider, time_scale=args.time_scale, machine_count=args.machine_count
        ).start()
    except (ScenarioError, DrsScenarioError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        print(
            f"  ready: synthesized in {env.synth_seconds:.1f} s; {env.site.record_name} -> {PRIMARY_ADDRESS} (the failed primary)",
            flush=True,
        )
        if args.readiness:
            return _readiness(env, as_json=args.json)
        print(f"  starting the failover with input {json.dumps(failover_input)}", flush=True)
        before = env.site.record_values()
        # Half-second looks: the drill watching must not compete with the pipeline it measures.
        # A drill's hold is ended at once, as on-call would with `dr-autopilot drill-cleanup`.
        result = env.executions.run(
            failover_input,
            timeout=600,
            on_events=Progress(args.time_scale),
            interval=0.5,
            end_hold_as="the local drill",
        )
        report = build_report(env, result, before)
        print(payload_json(report) if args.json else render_report(report))
        if args.html:
            assert env.config is not None
            try:
                write_html(operations.report(env.aws.client("stepfunctions"), result.arn, env.config), Path(args.html))
                print(f"  HTML report (phase timeline, RTO and RPO, what changed): {args.html}", file=sys.stderr)
            except CliError as error:  # the drill's verdict below still stands
                print(f"  error: {error}", file=sys.stderr)
        verdict = _verdict(args, result.status, report, before)
        if verdict is not None:
            print(
                f"\nDrill FAILED: {result.error}: {history.error_message(result.cause)}"
                if result.status != "SUCCEEDED"
                else f"\nDrill FAILED: {verdict}"
            )
            return 1
        print(
            "\nDry run passed: nothing launched, DNS unchanged."
            if args.dry_run
            else "\nDrill passed: the drill site was healthy, then cleaned up: its instances terminated, the drill "
            "record put back, the site record untouched."
            if args.mode == "drill"
            else "\nDrill passed: DNS points at the healthy recovered webserver."
        )
        return 0
    finally:
        env.stop()


def _verdict(args: argparse.Namespace, status: str, report: DrillReport, before: list[str]) -> str | None:
    """None if the drill did what it promises, else what it did not do."""
    if status != "SUCCEEDED":
        return status
    if args.dry_run:
        return None
    if not (report.health and report.health.get("healthy")) or report.recovered_address is None:
        return "the recovered webserver was not found healthy"
    if args.mode == "recovery":
        return None if report.record_after == [report.recovered_address] else "DNS does not point at it"
    if report.record_after != before:
        return "a drill changed the site record"
    cleanup = report.cleanup or {}
    if cleanup.get("stillRunning"):
        return f"the drill's instances still run: {', '.join(cleanup['stillRunning'])}"
    if cleanup.get("record") is not None and not cleanup.get("recordRestored"):
        return f"the drill record was not put back ({cleanup.get('recordDetail')})"
    return None


def _readiness(env: LocalFailoverEnvironment, as_json: bool) -> int:
    """The readiness run as the schedule starts it: the verdict, the metrics the functions emitted
    (read from their embedded-metric-format log lines, as CloudWatch would) and the message."""
    try:
        scheduled = env.executions.scheduled_input()
    except LookupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"  starting the readiness run with the schedule's input {scheduled}", flush=True)
    since = len(env.aws.runtime.invocations)
    result = env.executions.run(scheduled, timeout=600, on_events=Progress(env.time_scale), interval=0.5)
    metrics = {
        metric.name: metric.value
        for metric in env.aws.runtime.metrics(since)
        if metric.namespace == NAMESPACE and metric.name in set(ReadinessMetric)
    }
    messages = env.site.notifications()
    summary = result.output or {}
    ready = result.status == "SUCCEEDED" and summary.get("outcome") == "READY"
    if as_json:
        print(json.dumps({"status": result.status, "summary": summary, "metrics": metrics, "messages": messages}))
    else:
        print(f"\nReadiness verdict: {'READY' if ready else 'NOT READY'} (execution {result.name}: {result.status})")
        print(f"  {summary.get('headline') or history.error_message(result.cause)}")
        print(f"\nMetrics emitted ({NAMESPACE}):")
        for name in ReadinessMetric:
            print(f"  {name.value:<26} {metrics.get(name, '(not emitted)')}")
        for message in messages:
            print(
                f"\nMessage to on-call: {message['subject']}\n"
                + "\n".join(f"  | {line}" for line in message["message"].splitlines())
            )
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main())
