"""A local Lambda service: the Invoke API over HTTP, running the real handler code in-process.

moto's Step Functions interpreter invokes Lambda through boto3; with Lambda passthrough and
`AWS_ENDPOINT_URL_LAMBDA` pointing here, each task runs the handler named in the synthesized
template with that function's (resolved) environment. Handler exceptions are answered the way
Lambda answers them (`X-Amz-Function-Error: Unhandled`, `{errorType, errorMessage, stackTrace}`),
so the workflow's Retry/Catch rules see the project's own error names.

What a handler prints or logs is kept per invocation (like CloudWatch Logs), never mixed into
the drill's own output. Invocations run one at a time, each in the environment of its function;
moving to another function counts as a cold start (cached settings and clients are dropped).
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

SERVICE_LOGGER = "dr-autopilot"
COLD_START = "dr_autopilot.dependencies"  # its forget() drops the settings and every client built
# Environment a Lambda sandbox would have; tracing has no X-Ray daemon here.
SANDBOX_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}


@dataclass
class FunctionSpec:
    name: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int = 30
    memory_mb: int = 256


@dataclass
class Invocation:
    function: str
    request_id: str
    started: float
    seconds: float
    error_type: str | None
    log: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EmittedMetric:
    function: str
    namespace: str
    name: str
    value: float
    dimensions: dict[str, str]


def _embedded_metrics(invocation: Invocation) -> list[EmittedMetric]:
    """The metrics of the EMF objects in the invocation's log (as CloudWatch Logs would extract them)."""
    found = []
    for line in invocation.log:
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
            continue
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            dimensions = {name: str(document[name]) for names in directive["Dimensions"] for name in names}
            for metric in directive["Metrics"]:
                values = document[metric["Name"]]
                for value in values if isinstance(values, list) else [values]:
                    found.append(
                        EmittedMetric(invocation.function, directive["Namespace"], metric["Name"], value, dimensions)
                    )
    return found


class _ThreadRoutedStream(io.TextIOBase):
    """sys.stdout stand-in: writes from an invoking thread go to its sink, all others pass through."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.sinks: dict[int, list[str]] = {}

    def write(self, text: str) -> int:
        sink = self.sinks.get(threading.get_ident())
        if sink is None:
            return int(self.real.write(text))
        sink.append(text)
        return len(text)

    def flush(self) -> None:
        self.real.flush()

    def isatty(self) -> bool:
        return bool(self.real.isatty())


CRASHED = "Runtime exited with error: signal: killed"


class FunctionDied(BaseException):
    """The function's process dies where this is raised: being a BaseException, no handler code,
    Powertools' clean-up included, catches it (a real kill runs no code at all)."""


class _FakeContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec, arn: str, request_id: str, time_scale: float = 1.0) -> None:
        self.function_name = spec.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = spec.memory_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{spec.name}"
        self.log_stream_name = f"local/{request_id}"
        self._deadline = time.monotonic() + spec.timeout_seconds / time_scale

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalLambdaRuntime:
    def __init__(self, time_scale: Callable[[], float] = lambda: 1.0) -> None:
        self._time_scale = time_scale
        self.extra_environment: dict[str, str] = {}  # for every function (for example a CA bundle)
        self.functions: dict[str, FunctionSpec] = {}
        self.invocations: list[Invocation] = []
        self.before_return: Callable[[str, dict[str, Any]], None] | None = None  # fault hook for tests
        self._timeouts_after_return: dict[str, int] = {}
        self._throttles: dict[str, int] = {}
        self._stalls: dict[str, int] = {}
        self._stall_seconds: dict[str, float] = {}
        self._stalls_released = threading.Event()
        self._stalled = threading.Condition()
        self._stalled_count = 0
        self._environment_before: dict[str, str] = {}
        self._lock = threading.Lock()
        self._last_function: str | None = None
        self._stdout = _ThreadRoutedStream(sys.stdout)
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as the emulators: no ~40 ms wait per kept-alive answer

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = self.rfile.read(length) if length else b"{}"
                name = unquote(self.path.split("/functions/", 1)[-1].split("/invocations", 1)[0])
                status, headers, body = runtime.invoke(name, payload)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> LocalLambdaRuntime:
        # A Lambda's warnings land in its log group; here they would interrupt the drill's output.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        sys.stdout = self._stdout
        self._environment_before = dict(os.environ)
        threading.Thread(target=self._server.serve_forever, name="local-lambda", daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if sys.stdout is self._stdout:
            sys.stdout = self._stdout.real
        for key in self._function_keys():
            if key in self._environment_before:
                os.environ[key] = self._environment_before[key]
            else:
                os.environ.pop(key, None)

    def _function_keys(self) -> set[str]:
        keys = {
            *SANDBOX_ENVIRONMENT,
            *self.extra_environment,
            "AWS_LAMBDA_FUNCTION_NAME",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        }
        return keys.union(*(spec.environment for spec in self.functions.values()))

    def register(self, spec: FunctionSpec) -> None:
        self.functions[spec.name] = spec

    def logs(self) -> list[str]:
        return [line for invocation in self.invocations for line in invocation.log]

    def metrics(self, since: int = 0) -> list[EmittedMetric]:
        """The metrics the functions emitted (Powertools prints them as CloudWatch embedded metric
        format, one JSON object per flush, into the function's log) in invocations `since` on."""
        return [metric for invocation in self.invocations[since:] for metric in _embedded_metrics(invocation)]

    def invoke(self, name: str, payload: bytes) -> tuple[int, dict[str, str], bytes]:
        function_name = name.split(":function:", 1)[-1].split(":", 1)[0]
        spec = self.functions.get(function_name)
        request_id = str(uuid.uuid4())
        headers = {"x-amzn-RequestId": request_id, "X-Amz-Executed-Version": "$LATEST"}
        if spec is None:
            body = {"Type": "User", "message": f"Function not found: {function_name}"}
            return 404, {**headers, "x-amzn-ErrorType": "ResourceNotFoundException"}, json.dumps(body).encode()
        if self._take(self._throttles, spec.name):  # as Lambda answers when it will not start the function
            body = {
                "Type": "User",
                "message": "Rate Exceeded.",
                "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
            }
            return 429, {**headers, "x-amzn-ErrorType": "TooManyRequestsException"}, json.dumps(body).encode()
        if self._take(self._stalls, spec.name):  # a slow start (a cold start stuck on a dependency)
            with self._stalled:
                self._stalled_count += 1
            try:
                self._stalls_released.wait(next(s for state, s in self._stall_seconds.items() if state in spec.name))
                with self._lock:
                    return self._run(spec, name, payload, request_id, headers)
            finally:
                with self._stalled:
                    self._stalled_count -= 1
                    self._stalled.notify_all()
        with self._lock:
            return self._run(spec, name, payload, request_id, headers)

    def _run(
        self, spec: FunctionSpec, arn: str, payload: bytes, request_id: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        # The environment is process-wide and moto's threads read it concurrently, so variables are
        # only ever set, never deleted mid-run (a vanishing key breaks a concurrent os.environ copy):
        # another function's variables are blanked, which the settings treat as unset.
        os.environ.update(
            {
                **dict.fromkeys(self._function_keys(), ""),
                **SANDBOX_ENVIRONMENT,
                **self.extra_environment,
                **spec.environment,
                "AWS_LAMBDA_FUNCTION_NAME": spec.name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            }
        )
        if self._last_function != spec.name:
            self._cold_start()
            self._last_function = spec.name
        if sys.stdout is not self._stdout:  # replaced since start (pytest captures per test): route again,
            self._stdout.real, sys.stdout = sys.stdout, self._stdout  # or a print() (EMF) escapes the log
        sink: list[str] = []
        self._stdout.sinks[threading.get_ident()] = sink
        started = time.monotonic()
        error_type = None
        try:
            module_name, function = spec.handler.rsplit(".", 1)
            handler = getattr(importlib.import_module(module_name), function)
            self._route_service_logs()
            event = json.loads(payload or b"{}")
            result = handler(event, _FakeContext(spec, arn, request_id, self._time_scale()))
            if self.before_return is not None:
                self.before_return(spec.name, event)
            status, body = 200, json.dumps(result).encode()
            if self._take_timeout(spec.name):  # as Lambda reports a function that ran out of time
                error_type = "Sandbox.Timedout"
                headers = {**headers, "X-Amz-Function-Error": "Unhandled"}
                message = f"Task timed out after {spec.timeout_seconds}.00 seconds"
                body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
        except FunctionDied:  # as Lambda answers for a runtime that was killed
            error_type = "Runtime.ExitError"
            headers = {**headers, "X-Amz-Function-Error": "Unhandled"}
            status = 200
            body = json.dumps(
                {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {CRASHED}"}
            ).encode()
        except Exception as error:  # noqa: BLE001 - every handler error is the function's answer
            error_type = type(error).__name__
            headers = {**headers, "X-Amz-Function-Error": "Unhandled"}
            frames = traceback.format_tb(error.__traceback__)[-5:]
            status, body = (
                200,
                json.dumps({"errorType": error_type, "errorMessage": str(error), "stackTrace": frames}).encode(),
            )
        finally:
            self._stdout.sinks.pop(threading.get_ident(), None)
        log = [line for chunk in sink for line in chunk.splitlines() if line.strip()]
        self.invocations.append(Invocation(spec.name, request_id, started, time.monotonic() - started, error_type, log))
        return status, headers, body

    def time_out_after_return(self, state: str, count: int = 1) -> None:
        """Make the next `count` invocations of the function for `state` (e.g. "LaunchRecovery")
        run to the end, side effects included, and then report a timeout instead of the result."""
        self._timeouts_after_return[state] = count

    def throttle(self, state: str, count: int = 1) -> None:
        """Answer the next `count` invocations of the function for `state` with 429
        TooManyRequestsException, without running it (Lambda's throttle)."""
        self._throttles[state] = count

    def stall(self, state: str, seconds: float, count: int = 1) -> None:
        """Make the next `count` invocations of the function for `state` wait `seconds` of real
        time before they run (other functions keep running meanwhile); `disarm` ends the wait."""
        self._stalls_released.clear()
        self._stalls[state] = count
        self._stall_seconds[state] = seconds

    def _take_timeout(self, function_name: str) -> bool:
        return self._take(self._timeouts_after_return, function_name)

    @staticmethod
    def _take(armed: dict[str, int], function_name: str) -> bool:
        """Use up one armed fault for this function, if one is left."""
        for state, remaining in armed.items():
            if remaining > 0 and state in function_name:
                armed[state] = remaining - 1
                return True
        return False

    def release_stalls(self) -> None:
        """Let stalled invocations run now; the other armed faults stay armed."""
        self._stalls.clear()
        self._stalls_released.set()

    def disarm(self) -> None:
        """Forget every armed fault (throttles, stalls, timeouts after return, the before-return hook).
        A stalled invocation runs now (its execution may have ended meanwhile); this returns once
        it has, so it cannot touch whatever comes next."""
        self._throttles.clear()
        self._timeouts_after_return.clear()
        self._stalls.clear()
        self._stalls_released.set()
        with self._stalled:
            self._stalled.wait_for(lambda: self._stalled_count == 0, timeout=60)
        self.before_return = None

    def recycle(self) -> None:
        """Drop every warm container: the next invocation of any function is a cold start."""
        self._last_function = None

    def _route_service_logs(self) -> None:
        """Send the service's log lines through the routing stream (the logger may have been
        created before this runtime started, bound to whatever stdout was then)."""
        for handler in logging.getLogger(SERVICE_LOGGER).handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is not self._stdout:
                handler.setStream(self._stdout)

    @staticmethod
    def _cold_start() -> None:
        module = sys.modules.get(COLD_START)
        if module is not None:
            module.forget()
