"""Local AWS: moto in-process, with the Step Functions interpreter on and Lambda served by
`LocalLambdaRuntime`, plus a deployer that creates a synthesized template's resources."""

from __future__ import annotations

import copy
import functools
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.route53.models import Route53Backend
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.program.program import Program
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped, ProgramTimedOut
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.utils import TMP_THREADS

from local.lambda_runtime import CRASHED, FunctionDied, FunctionSpec, LocalLambdaRuntime

ACCOUNT = "123456789012"
REGION = "eu-west-1"
LOCAL_AWS_VARIABLES = (
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_ENDPOINT_URL_LAMBDA",
    "MOTO_EC2_LOAD_DEFAULT_AMIS",
)
MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "core": {"passthrough": {"services": ["lambda"]}},
}


class TemplateError(ValueError):
    """The template uses something the local deployer does not resolve."""


class _InterpreterClock:
    """The Step Functions interpreter's clock, `time_scale` times faster than the wall clock: Wait
    states, Retry back-off intervals, a task's TimeoutSeconds (a drill's hold, an approval's
    wait) and the execution's own TimeoutSeconds last 1/time_scale of their seconds. The definition is unchanged (its intervals are asserted on the template); only
    how long the local interpreter really waits for them. 1 (the drill) is real time. The scale
    is read when a wait starts, so `LocalAws.interpreter_speed` can change it for one run."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._saved_wait = WaitFunction._wait_interval
        self._saved_time = retrier_decl.time
        self._saved_eval = Program.eval
        self._saved_task_timeout = TimeoutSeconds._eval_seconds

    def start(self) -> None:
        clock = self

        class ScaledTime:
            """Stands in for the `time` module where the retrier sleeps between attempts."""

            def __getattr__(self, name: str) -> Any:
                return getattr(time, name)

            @staticmethod
            def sleep(seconds: float) -> None:
                time.sleep(seconds / clock.time_scale)

        def scaled_wait(_: WaitFunction, env: Environment, wait_seconds: int) -> None:
            deadline = time.monotonic() + wait_seconds / clock.time_scale
            while env.is_running() and (left := deadline - time.monotonic()) > 0:
                env.program_state_event.wait(left)

        def scaled_eval(program: Program, env: Environment) -> None:
            # moto's Program.eval, with the execution's TimeoutSeconds on this clock.
            timeout = program.timeout_seconds.timeout_seconds if program.timeout_seconds else None
            env.next_state_name = program.start_at.start_at_name
            worker = threading.Thread(target=EvalComponent.eval, args=(program, env), daemon=True)
            TMP_THREADS.append(worker)
            worker.start()
            # As Step Functions does, a stopped execution ends at once (moto waits for the task in
            # flight to return); the task's function runs on, as a Lambda invocation would.
            deadline = None if timeout is None else time.monotonic() + timeout / clock.time_scale
            while worker.is_alive() and env.is_running():
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    env.set_timed_out()
                    break
                worker.join(timeout=0.05 if left is None else min(0.05, left))

        def scaled_task_timeout(timeout: TimeoutSeconds, env: Environment) -> float:
            seconds = float(timeout.timeout_seconds)
            return seconds if timeout.is_default_value() else seconds / clock.time_scale

        retrier_decl.time = ScaledTime()
        WaitFunction._wait_interval = scaled_wait
        Program.eval = scaled_eval
        TimeoutSeconds._eval_seconds = scaled_task_timeout

    def stop(self) -> None:
        retrier_decl.time = self._saved_time
        WaitFunction._wait_interval = self._saved_wait
        Program.eval = self._saved_eval
        TimeoutSeconds._eval_seconds = self._saved_task_timeout


class _InterpreterCaches:
    """Work moto's Step Functions interpreter repeats for every execution, done once: parsing the
    definition (about a second of CPU for this workflow) and creating a boto3 Lambda client for
    every task. The parsed program keeps no per-execution state (that lives in the environment,
    keyed by component), and a boto3 client is safe to share between threads."""

    def __init__(self) -> None:
        self._saved_entrypoint = ExecutionWorker._get_evaluation_entrypoint
        self._saved_client = lambda_eval_utils.boto_client_for

    def start(self) -> None:
        parse = functools.lru_cache(maxsize=16)(lambda definition: AmazonStateLanguageParser.parse(definition)[0])

        def entrypoint(worker: ExecutionWorker) -> EvalComponent:
            program: EvalComponent = parse(worker._evaluation_details.state_machine_details.definition)
            return program

        ExecutionWorker._get_evaluation_entrypoint = entrypoint
        create = functools.lru_cache(maxsize=16)(lambda region, service: self._saved_client(region, service))

        def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
            return create(region, service)  # local credentials only: one client per service

        lambda_eval_utils.boto_client_for = client_for

    def stop(self) -> None:
        ExecutionWorker._get_evaluation_entrypoint = self._saved_entrypoint
        lambda_eval_utils.boto_client_for = self._saved_client


class _LambdaServiceErrors:
    """Step Functions names a Lambda service error on a Lambda task `Lambda.<code>` (for example
    `Lambda.TooManyRequestsException` when Lambda throttles), which is what the workflow's Retry
    rules match; moto's interpreter calls every such error `Exception`. This restores AWS's names
    while local AWS runs."""

    def __init__(self) -> None:
        self._saved = StateTaskLambda._from_error

    def start(self) -> None:
        original = self._saved

        def from_error(task: StateTaskLambda, env: Environment, ex: Exception) -> FailureEvent:
            event = original(task, env, ex)
            if isinstance(ex, lambda_eval_utils.LambdaFunctionErrorException) and CRASHED in str(ex.payload):
                # A function whose runtime died (killed, out of memory): Step Functions says Lambda.Unknown.
                event.error_name = CustomErrorName("Lambda.Unknown")
                crashed: Any = event.event_details or {}
                details = crashed.get("lambdaFunctionFailedEventDetails")
                if details is not None:
                    details["error"] = "Lambda.Unknown"
            elif isinstance(ex, ClientError):
                name = f"Lambda.{ex.response.get('Error', {}).get('Code', 'Unknown')}"
                event.error_name = CustomErrorName(name)
                recorded: Any = event.event_details or {}
                details = recorded.get("lambdaFunctionFailedEventDetails")
                if details is not None:
                    details["error"] = name
            return event

        StateTaskLambda._from_error = from_error

    def stop(self) -> None:
        StateTaskLambda._from_error = self._saved


class _StoppedStaysStopped:
    """In Step Functions an execution that was stopped (or timed out) stays ABORTED (TIMED_OUT).
    moto's interpreter lets the task still in flight overwrite that with an error (FAILED) when
    it ends after the stop, which made an abort read as a failure now and then. This keeps the
    first end, as AWS does, while local AWS runs."""

    def __init__(self) -> None:
        self._saved = Environment.set_error

    def start(self) -> None:
        original = self._saved

        def set_error(env: Environment, error: Any) -> None:
            if isinstance(env.program_state(), (ProgramStopped, ProgramTimedOut)):
                return
            original(env, error)

        Environment.set_error = set_error

    def stop(self) -> None:
        Environment.set_error = self._saved


class _ChangeBatchesInOrder:
    """Route 53 applies a change batch as one transaction, in order: DELETE a record and CREATE
    its new value is the documented way to replace it only if it still holds what you read.
    moto checks a CREATE against the zone as it was before the batch, and against records of
    other names after it (a CREATE it has seen before is refused when any later-sorted record
    exists). Here such a batch is applied change by change (a CREATE of a record that does not
    exist at that moment as the UPSERT it then is), and all or nothing: on a refusal the zone's
    records are put back as they were."""

    def __init__(self) -> None:
        self._saved = Route53Backend.change_resource_record_sets

    def start(self) -> None:
        original = self._saved

        def key(change: dict[str, Any]) -> tuple[str, str]:
            return change["ResourceRecordSet"]["Name"].rstrip(".").lower(), change["ResourceRecordSet"]["Type"]

        def in_order(backend: Route53Backend, zoneid: str, change_list: list[dict[str, Any]]) -> None:
            deleted = {key(c) for c in change_list if c["Action"] == "DELETE"}
            if not any(c["Action"] == "CREATE" and key(c) in deleted for c in change_list):
                original(backend, zoneid, change_list)
                return
            zone = backend.get_hosted_zone(zoneid)
            before = copy.deepcopy(zone.rrsets)
            try:
                for change in change_list:
                    exists = any((r.name.rstrip(".").lower(), r.type) == key(change) for r in zone.rrsets)
                    if change["Action"] == "CREATE" and not exists:
                        change = {**change, "Action": "UPSERT"}
                    original(backend, zoneid, [change])
            except Exception:
                zone.rrsets = before
                raise

        Route53Backend.change_resource_record_sets = in_order

    def stop(self) -> None:
        Route53Backend.change_resource_record_sets = self._saved


class LocalAws:
    """moto + the local Lambda runtime, started and stopped together."""

    def __init__(self, region: str = REGION, interpreter_time_scale: float = 1.0) -> None:
        self.region = region
        self._clock = _InterpreterClock(interpreter_time_scale)
        # Functions' time limits run on the interpreter's clock too (a 300 s timeout, as the
        # context reports it, lasts 300/time_scale real seconds), as the retries that wait them out do.
        self.runtime = LocalLambdaRuntime(time_scale=lambda: self._clock.time_scale)
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._lambda_errors = _LambdaServiceErrors()
        self._stopped_stays_stopped = _StoppedStaysStopped()
        self._caches = _InterpreterCaches()
        self._change_batches = _ChangeBatchesInOrder()
        self._saved_environment: dict[str, str] = {}

    def start(self) -> LocalAws:
        self._saved_environment = dict(os.environ)
        os.environ.update(
            {
                "AWS_DEFAULT_REGION": self.region,
                "AWS_REGION": self.region,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_ENDPOINT_URL_LAMBDA": self.runtime.start().endpoint,
                # moto's EC2 otherwise loads ~1,300 public AMIs and filters them on every instance
                # it runs (9 ms each: 27 s for a local DRS recovery of 3,000 servers). Nothing here
                # reads AMIs, and moto does not validate an instance's AMI unless asked to.
                "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            }
        )
        for noisy in ("moto.stepfunctions.parser", "moto"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)
        self._mock.start()
        self._clock.start()
        self._caches.start()
        self._lambda_errors.start()
        self._stopped_stays_stopped.start()
        self._change_batches.start()
        return self

    @contextmanager
    def interpreter_speed(self, time_scale: float) -> Iterator[None]:
        """Run the Step Functions interpreter's clock `time_scale` times faster than real time
        meanwhile (for example to let an execution reach its TimeoutSeconds in seconds)."""
        saved, self._clock.time_scale = self._clock.time_scale, time_scale
        try:
            yield
        finally:
            self._clock.time_scale = saved

    def stop(self) -> None:
        self._change_batches.stop()
        self._clock.stop()
        self._caches.stop()
        self._lambda_errors.stop()
        self._stopped_stays_stopped.stop()
        self._mock.stop()
        self.runtime.stop()
        for key in LOCAL_AWS_VARIABLES:
            if key in self._saved_environment:
                os.environ[key] = self._saved_environment[key]
            else:
                os.environ.pop(key, None)

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def fail_calls(self, service: str, operation: str, code: str, count: int = 1_000_000) -> list[int]:
        """Make the handlers' next `count` calls of `service.operation` fail with error `code`
        (as if AWS answered so after botocore's own retries). Returns a one-item list counting
        the failures served so far."""
        from botocore.exceptions import ClientError
        from dr_autopilot.clients.aws import client as handlers_client

        served = [0]

        def fail(**_: Any) -> None:
            if served[0] < count:
                served[0] += 1
                raise ClientError(
                    {"Error": {"Code": code, "Message": f"{code} (injected by the local test)"}}, operation
                )

        handlers_client(service).meta.events.register(
            f"before-call.{service}.{operation}", fail, unique_id=f"fault-{service}-{operation}"
        )
        return served

    def fail_calls_after(self, state: str, service: str, operation: str, code: str, count: int = 1_000_000) -> None:
        """`fail_calls` armed when the function for `state` returns (each time it returns), so a
        fault hits what comes after that step and nothing before it."""

        def arm(function: str, event: dict[str, Any]) -> None:
            if state in function:
                self.fail_calls(service, operation, code, count=count)

        self.runtime.before_return = arm

    def die_at(self, state: str, service: str, operation: str, count: int = 1) -> None:
        """Kill the function for `state` when it next calls `service.operation`, `count` times: its
        process dies there (no `except`, no `finally`, no Powertools clean-up runs), as a runtime
        killed for memory does; Step Functions sees Lambda.Unknown. The call itself is not made."""
        from dr_autopilot.clients.aws import client as handlers_client

        left = [count]

        def die(**_: Any) -> None:
            if left[0] > 0 and state in os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""):
                left[0] -= 1
                raise FunctionDied(f"{state} killed at {service}.{operation}")

        handlers_client(service).meta.events.register(
            f"before-call.{service}.{operation}", die, unique_id=f"death-{service}-{operation}"
        )

    def clear_faults(self, service: str, operation: str) -> None:
        from dr_autopilot.clients.aws import client as handlers_client

        for kind in ("fault", "death"):
            handlers_client(service).meta.events.unregister(
                f"before-call.{service}.{operation}", unique_id=f"{kind}-{service}-{operation}"
            )


@dataclass
class Deployment:
    state_machine_arn: str
    definition: dict[str, Any]
    topic_arns: list[str]
    probe_queue_url: str
    functions: dict[str, FunctionSpec]
    prefix: str = ""

    def physical_ids(self, template: dict[str, Any], region: str) -> dict[str, dict[str, str]]:
        return _physical(template["Resources"], region, self.prefix)


def _physical(resources: dict[str, Any], region: str, prefix: str = "") -> dict[str, dict[str, str]]:
    """Give every resource its logical id (after `prefix`) as physical name, and the ARNs that follow."""
    ids: dict[str, dict[str, str]] = {}
    for logical_id, resource in resources.items():
        kind = resource["Type"]
        logical = prefix + logical_id
        if kind == "AWS::Lambda::Function":
            arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{logical}"
            ids[logical_id] = {"Ref": logical, "Arn": arn}
        elif kind == "AWS::SNS::Topic":
            arn = f"arn:aws:sns:{region}:{ACCOUNT}:{logical}"
            ids[logical_id] = {"Ref": arn, "TopicArn": arn, "TopicName": logical}
        elif kind == "AWS::DynamoDB::Table":
            ids[logical_id] = {"Ref": logical, "Arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{logical}"}
        elif kind == "AWS::IAM::Role":
            ids[logical_id] = {"Ref": logical, "Arn": f"arn:aws:iam::{ACCOUNT}:role/{logical}"}
        elif kind == "AWS::KMS::Key":
            ids[logical_id] = {"Ref": logical, "Arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{logical}", "KeyId": logical}
        elif kind == "AWS::Events::Rule":
            ids[logical_id] = {"Ref": logical, "Arn": f"arn:aws:events:{region}:{ACCOUNT}:rule/{logical}"}
        elif kind == "AWS::SQS::Queue":
            url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{logical}"
            ids[logical_id] = {"Ref": url, "Arn": f"arn:aws:sqs:{region}:{ACCOUNT}:{logical}", "QueueName": logical}
        elif kind == "AWS::Logs::LogGroup":
            ids[logical_id] = {"Ref": logical, "Arn": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{logical}:*"}
        elif kind == "AWS::CloudWatch::Alarm":  # (the dashboard's alarm widgets name them)
            ids[logical_id] = {"Ref": logical, "Arn": f"arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{logical}"}
        elif kind == "AWS::StepFunctions::StateMachine":
            arn = f"arn:aws:states:{region}:{ACCOUNT}:stateMachine:{logical}"
            ids[logical_id] = {"Ref": arn, "Arn": arn, "Name": logical}
        else:
            ids[logical_id] = {"Ref": logical}
    return ids


def resolve(value: Any, ids: dict[str, dict[str, str]], region: str) -> Any:
    """Resolve CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, pseudo parameters)."""
    pseudo = {
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": "DrAutopilot",
    }
    if isinstance(value, list):
        return [resolve(item, ids, region) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Ref":
            if argument in pseudo:
                return pseudo[argument]
            return ids[argument]["Ref"]
        if key == "Fn::GetAtt":
            logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            try:
                return ids[logical][attribute]
            except KeyError:
                raise TemplateError(f"cannot resolve Fn::GetAtt {logical}.{attribute}") from None
        if key == "Fn::Join":
            separator, parts = argument
            return separator.join(str(resolve(part, ids, region)) for part in parts)
        if key == "Fn::Split":
            separator, text = argument
            return str(resolve(text, ids, region)).split(separator)
        if key == "Fn::Select":
            index, items = argument
            return resolve(items, ids, region)[int(index)]
        if key.startswith("Fn::"):
            raise TemplateError(f"the local deployer does not resolve {key}")
    return {key: resolve(item, ids, region) for key, item in value.items()}


def deploy(template: dict[str, Any], aws: LocalAws, prefix: str = "") -> Deployment:
    """Create what the workflow needs from the template: topics (with an SQS probe), tables,
    functions in the local runtime, and the state machine with its resolved definition."""
    resources = template["Resources"]
    ids = _physical(resources, aws.region, prefix)
    sns, sqs, dynamodb, states = (
        aws.client("sns"),
        aws.client("sqs"),
        aws.client("dynamodb"),
        aws.client("stepfunctions"),
    )
    probe_url = sqs.create_queue(QueueName=f"{prefix}notification-probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    topics, functions = [], {}
    machine_arn, definition = "", {}
    for logical, resource in resources.items():
        kind, props = resource["Type"], resolve(resource.get("Properties", {}), ids, aws.region)
        if kind == "AWS::SNS::Topic":
            arn = sns.create_topic(Name=prefix + logical)["TopicArn"]
            sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=probe_arn)
            topics.append(arn)
        elif kind == "AWS::DynamoDB::Table":
            dynamodb.create_table(
                TableName=prefix + logical,
                KeySchema=props["KeySchema"],
                AttributeDefinitions=props["AttributeDefinitions"],
                BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"),
            )
        elif kind == "AWS::Lambda::Function":
            spec = FunctionSpec(
                name=prefix + logical,
                handler=props["Handler"],
                environment={k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()},
                timeout_seconds=int(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
            )
            aws.runtime.register(spec)
            functions[prefix + logical] = spec
    for logical, resource in resources.items():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            props = resolve(resource["Properties"], ids, aws.region)
            definition = json.loads(props["DefinitionString"])
            machine_arn = states.create_state_machine(
                name=prefix + logical, definition=props["DefinitionString"], roleArn=props["RoleArn"]
            )["stateMachineArn"]
    if not machine_arn:
        raise TemplateError("the template has no AWS::StepFunctions::StateMachine")
    return Deployment(machine_arn, definition, topics, probe_url, functions, prefix)
