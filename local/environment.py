"""The whole failover, locally: the CloudEndure emulator, local AWS, and the state machine
synthesized from the real CDK app (with the drill's context), executed with the real handlers.

The drill (`python -m local.drill`) and the workflow tests use this same environment.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from dr_autopilot.config import CONTEXT_KEY, FailoverConfig

from dr_autopilot_cli.operations import history as execution_history
from local.aws import REGION, Deployment, LocalAws, deploy
from local.cloudendure import CloudEndureEmulator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ZONE_NAME = "example.com"
PRIMARY_ADDRESS = "192.0.2.10"  # the failed primary webserver (TEST-NET-1: never contacted)
PRIMARY_TTL = 60


def base_context() -> dict[str, Any]:
    """The context of cdk.json, as `npx cdk synth` would read it."""
    return dict(json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"])


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        merged[key] = (
            merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def drill_overrides(emulator: CloudEndureEmulator, hosted_zone_id: str) -> dict[str, Any]:
    """What the local drill changes in cdk.json's configuration, and why:
    the API and landing page live on this machine, the zone is moto's, and the workflow's Wait
    states (which really sleep) poll every second instead of every 15-60 s. Thresholds and
    timeouts measured on the provider's clock (lag, job timeout) stay as configured: they run
    on the emulator's clock, scaled with it."""
    return {
        CONTEXT_KEY: {
            "cloudendure": {"apiUrl": emulator.base_url, "readTimeoutSeconds": 2},
            "dns": {"hostedZoneId": hosted_zone_id, "insyncTimeoutSeconds": 10},
            "healthCheck": {"port": emulator.landing_port, "timeoutSeconds": 2, "intervalSeconds": 1, "maxAttempts": 5},
            "job": {"pollMinSeconds": 1, "pollMaxSeconds": 1},
        },
        "account": "123456789012",
        "region": REGION,
        "aws:cdk:bundling-stacks": [],  # the drill runs handlers from source; no Lambda bundle needed
    }


def synthesize(context: dict[str, Any]) -> dict[str, Any]:
    """Synthesize the real CDK app in-process and return the stack's template."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infrastructure.app import STACK_NAME, build_app

    with tempfile.TemporaryDirectory(prefix="dr-autopilot-synth-") as outdir:
        stack = build_app(context=context, outdir=outdir).synth().get_stack_by_name(STACK_NAME)
        errors = [
            f"{message.id}: {str(message.entry.data).splitlines()[0]}"
            for message in stack.messages
            if message.level.value == "ERROR"
        ]
        if errors:  # as `cdk synth` does: an unacknowledged cdk-nag finding (or any error) stops here
            raise SynthError(f"{len(errors)} error annotation(s):\n" + "\n".join(errors))
        return dict(stack.template)


class SynthError(RuntimeError):
    """The app synthesized with error annotations (for example an unacknowledged cdk-nag finding)."""


@dataclass
class ExecutionResult:
    arn: str
    name: str
    status: str
    started: datetime
    stopped: datetime | None
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def entered_states(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.events if "stateEnteredEventDetails" in e]

    def state_outputs(self, state: str) -> list[dict[str, Any]]:
        outputs = []
        for event in self.events:
            details = event.get("stateExitedEventDetails")
            if details and details["name"] == state:
                outputs.append(json.loads(details["output"]))
        return outputs


class LocalFailoverEnvironment:
    """Emulator + local AWS + deployed workflow. Use as a context manager."""

    def __init__(
        self,
        scenario: str = "two-tier",
        *,
        time_scale: float = 60.0,
        machine_count: int | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> None:
        self.scenario = scenario
        self.time_scale = time_scale
        self._machine_count = machine_count
        self._overrides = overrides or {}
        self.emulator = CloudEndureEmulator(scenario, time_scale=time_scale, machine_count=machine_count)
        self.aws = LocalAws()
        self.deployment: Deployment | None = None
        self.config: FailoverConfig | None = None
        self.synth_seconds = 0.0
        self._deployments = 0

    def __enter__(self) -> LocalFailoverEnvironment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalFailoverEnvironment:
        self.emulator.start()
        self.aws.start()
        try:
            route53 = self.aws.client("route53")
            self.hosted_zone_id = route53.create_hosted_zone(Name=ZONE_NAME, CallerReference=str(uuid.uuid4()))[
                "HostedZone"
            ]["Id"].split("/")[-1]
            context = merge(merge(base_context(), drill_overrides(self.emulator, self.hosted_zone_id)), self._overrides)
            self.config = FailoverConfig.parse(context[CONTEXT_KEY])
            assert self.config.cloudendure is not None
            self.aws.client("secretsmanager").create_secret(
                Name=self.config.cloudendure.api_token_secret_name, SecretString=self.emulator.api_token
            )
            started = time.monotonic()
            template = synthesize(context)
            self.synth_seconds = time.monotonic() - started
            self.template = template
            self.deployment = deploy(template, self.aws)
            self.reset_site()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.aws.stop()
        self.emulator.stop()

    # ------------------------------------------------------------------- the site
    @property
    def record_name(self) -> str:
        assert self.config is not None
        return str(self.config.dns.record_name)

    def reset_site(self, scenario: str | None = None, machine_count: int | None = None) -> None:
        """Back to 'the primary has just failed': fresh emulator scenario, DNS on the primary, no messages."""
        if scenario is not None:
            self.scenario = scenario
            self.emulator.reset(scenario, machine_count)
        self.aws.runtime.recycle()
        self.reset_lock()
        self.set_record(self.record_name, PRIMARY_ADDRESS)
        self.notifications()  # drain (SQS allows one purge a minute)

    def set_record(self, name: str, value: str) -> None:
        assert self.config is not None
        self.aws.client("route53").change_resource_record_sets(
            HostedZoneId=self.hosted_zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "UPSERT",
                        "ResourceRecordSet": {
                            "Name": name + ".",
                            "Type": self.config.dns.record_type,
                            "TTL": PRIMARY_TTL,
                            "ResourceRecords": [{"Value": value}],
                        },
                    }
                ]
            },
        )

    def record_values(self, name: str | None = None) -> list[str]:
        assert self.config is not None
        wanted = (name or self.record_name).rstrip(".") + "."
        sets = self.aws.client("route53").list_resource_record_sets(HostedZoneId=self.hosted_zone_id)[
            "ResourceRecordSets"
        ]
        return [
            r["Value"]
            for s in sets
            if s["Name"] == wanted and s["Type"] == self.config.dns.record_type
            for r in s.get("ResourceRecords", [])
        ]

    def notifications(self) -> list[dict[str, str]]:
        """Every SNS message published so far (subject, message), oldest first."""
        assert self.deployment is not None
        sqs, messages = self.aws.client("sqs"), []
        while True:
            batch = sqs.receive_message(
                QueueUrl=self.deployment.probe_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                envelope = json.loads(message["Body"])
                messages.append({"subject": envelope.get("Subject", ""), "message": envelope["Message"]})
                sqs.delete_message(QueueUrl=self.deployment.probe_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages

    # ------------------------------------------------------------------ executions
    def start_execution(self, failover_input: dict[str, Any] | str, name: str | None = None) -> str:
        assert self.deployment is not None
        body = failover_input if isinstance(failover_input, str) else json.dumps(failover_input)
        return str(
            self.aws.client("stepfunctions").start_execution(
                stateMachineArn=self.deployment.state_machine_arn,
                name=name or f"failover-{uuid.uuid4().hex[:12]}",
                input=body,
            )["executionArn"]
        )

    def history(self, arn: str) -> list[dict[str, Any]]:
        return execution_history(self.aws.client("stepfunctions"), arn)

    def wait(
        self,
        arn: str,
        timeout: float = 300,
        on_events: Callable[[list[dict[str, Any]]], None] | None = None,
        interval: float = 0.2,
    ) -> ExecutionResult:
        """Wait for the execution to end, handing new history events to `on_events` as they appear."""
        states = self.aws.client("stepfunctions")
        deadline, seen = time.monotonic() + timeout, 0
        while True:
            description = states.describe_execution(executionArn=arn)
            finished = description["status"] != "RUNNING"
            if on_events is not None:
                events = self.history(arn)
                if len(events) > seen:
                    on_events(events[seen:])
                    seen = len(events)
            if finished:
                break
            if time.monotonic() > deadline:
                states.stop_execution(executionArn=arn, error="DrillTimeout", cause=f"no result within {timeout:.0f}s")
                raise TimeoutError(f"execution {arn} still running after {timeout:.0f}s")
            time.sleep(interval)
        output = description.get("output")
        return ExecutionResult(
            arn=arn,
            name=description["name"],
            status=description["status"],
            started=description["startDate"],
            stopped=description.get("stopDate"),
            output=json.loads(output) if output else None,
            error=description.get("error"),
            cause=description.get("cause"),
            events=self.history(arn),
        )

    def deliver_event(self, event: dict[str, Any]) -> list[str]:
        """Hand an event to the synthesized EventBridge rules: every matching rule that targets the
        state machine starts an execution with its transformer's input. Returns the executions."""
        from local.aws import resolve
        from local.events import matches, transform

        assert self.deployment is not None
        started = []
        resources = self.template["Resources"]
        ids = self.deployment.physical_ids(self.template, self.aws.region)
        for rule in (r for r in resources.values() if r["Type"] == "AWS::Events::Rule"):
            props = resolve(rule["Properties"], ids, self.aws.region)
            if props.get("State", "ENABLED") != "ENABLED" or not matches(props["EventPattern"], event):
                continue
            for target in props.get("Targets", []):
                if target["Arn"] == self.deployment.state_machine_arn:
                    started.append(self.start_execution(transform(target["InputTransformer"], event)))
        return started

    def reset_lock(self) -> None:
        """Forget any failover lock (a new outage, long after the last one)."""
        tables = [
            name
            for name, r in self.template["Resources"].items()
            if r["Type"] == "AWS::DynamoDB::Table" and "Lock" in name
        ]
        assert self.deployment is not None
        for table in tables:
            self.aws.client("dynamodb").delete_item(
                TableName=self.deployment.prefix + table, Key={"id": {"S": "failover-lock"}}
            )

    @contextlib.contextmanager
    def reconfigured(self, overrides: dict[str, Any]) -> Iterator[LocalFailoverEnvironment]:
        """Synthesize again with `overrides` on top, deploy that stack beside the first one (same
        local AWS, emulator and zone, names prefixed) and use it inside the block."""
        saved = (self.template, self.deployment, self.config)
        self._deployments += 1
        context = merge(
            merge(base_context(), drill_overrides(self.emulator, self.hosted_zone_id)),
            merge(self._overrides, overrides),
        )
        self.config = FailoverConfig.parse(context[CONTEXT_KEY])
        self.template = synthesize(context)
        self.deployment = deploy(self.template, self.aws, prefix=f"v{self._deployments}-")
        try:
            self.reset_site()
            yield self
        finally:
            self.template, self.deployment, self.config = saved
            self.aws.runtime.recycle()

    def run(self, failover_input: dict[str, Any] | str, timeout: float = 300, **wait_options: Any) -> ExecutionResult:
        return self.wait(self.start_execution(failover_input), timeout=timeout, **wait_options)
