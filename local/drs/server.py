"""HTTP front of the emulator: DRS's REST-JSON operations plus an `/_emulator` admin API.

Every DRS operation is `POST /<OperationName>` with a JSON body (the tag operations use
`/tags/{resourceArn}`), answered with the model's success status or a modeled error carrying
`X-Amzn-ErrorType`, so the real boto3 `drs` client (and the AWS CLI) works against it with
`endpoint_url`. The admin API is not part of DRS: tests and the drill use it to inject faults,
move the clock, load another scenario and read call counters.
"""

from __future__ import annotations

import itertools
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import ValidationError

from local.cloudendure.clock import Clock, DatedByArrival
from local.cloudendure.landing import LandingPages, QuietServer
from local.drs.errors import ERROR_TYPE_SUFFIX, DrsError, from_fault, invalid, uninitialized
from local.drs.faults import Faults
from local.drs.fleet import InMemoryFleet, InstanceFleet, RecoveryHosts
from local.drs.operations import Operations
from local.drs.records import Arns, iso
from local.drs.scenario import ErrorType, FaultSpec, LandingPageSpec, Scenario, load_scenario
from local.drs.state import Account
from local.drs.validation import operation_model, service_model, validate_input

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
TAG_OPERATIONS = {"GET": "ListTagsForResource", "POST": "TagResource", "DELETE": "UntagResource"}
POLL_SECONDS = 0.05  # how soon `stop()` returns
# Jobs run while nobody looks, as in DRS: their due effects (recovery instances launched into the
# fleet, terminated) are applied this often in real time, not only when the next request comes.
JOB_TICK_SECONDS = 0.1
BARE_STATUS_MESSAGES = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class AdminError(Exception):
    """A bad request to the admin API (answered 400 or 404, not in DRS's error format)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class DrsEmulator:
    """An AWS Elastic Disaster Recovery API on loopback. Use as a context manager, or `start()`/`stop()`.

    `fleet` is where recovery instances run: in memory by default, `local.drs.ec2.MotoEc2Fleet()`
    to have them in moto's EC2 beside local AWS.
    """

    def __init__(
        self,
        scenario: str | Scenario = "two-tier",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        machine_count: int | None = None,
        fleet: InstanceFleet | None = None,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.clock = clock or Clock(time_scale)
        self.fleet: InstanceFleet = fleet or InMemoryFleet()
        self.arns = Arns(region, account_id)
        self._landing_port: int | None = None
        self._addresses = itertools.count(1)
        self._generation = 0
        self.account = self._build_account(scenario, machine_count)
        service_model()  # loaded now rather than on the first request

        class Handler(_Handler):
            emulator = self

        self._server = QuietServer((host, port), Handler)
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._jobs_thread: threading.Thread | None = None

    def _build_account(self, scenario: str | Scenario, machine_count: int | None) -> Account:
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, machine_count)
        landing = LandingPages(loaded.landing_page, self._landing_port)
        self._landing_port = landing.port
        self._generation += 1
        hosts = RecoveryHosts(self.fleet, landing, self._addresses)
        return Account(loaded, self.clock, hosts, self.arns, self._generation)

    @property
    def base_url(self) -> str:
        """The `endpoint_url` for boto3's `drs` client or `aws drs --endpoint-url`."""
        return f"http://{self.host}:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/_emulator"

    @property
    def landing_port(self) -> int:
        """The port of every recovered webserver's landing page: `http://<PublicIpAddress>:<port>/`."""
        return self.account.hosts.landing.port

    @property
    def faults(self) -> Faults:
        return self.account.faults

    def client(self, **config: Any) -> Any:
        """A boto3 `drs` client for this emulator (any credentials do); `config` goes to botocore's Config."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "drs",
            endpoint_url=self.base_url,
            region_name=self.arns.region,
            aws_access_key_id="emulated",
            aws_secret_access_key="emulated",  # noqa: S106 - any credentials do: signatures are not checked
            config=Config(**config),
        )

    def reset(self, scenario: str | Scenario = "two-tier", machine_count: int | None = None) -> None:
        """Load a scenario afresh (new account state; same server, clock, fleet and landing port)."""
        new_account = self._build_account(scenario, machine_count)
        old, self.account = self.account, new_account
        old.shutdown(terminate_instances=True)

    def start(self) -> DrsEmulator:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_SECONDS,), name="drs-emulator", daemon=True
        )
        self._thread.start()
        self._jobs_thread = threading.Thread(target=self._run_jobs, name="drs-emulator-jobs", daemon=True)
        self._jobs_thread.start()
        return self

    def _run_jobs(self) -> None:
        """Apply the jobs' due effects every tick: an EC2 client that never asks DRS still sees
        the recovery instances appear when the job launches them (and the work of launching
        thousands is spread over the job instead of landing on the next request)."""
        while not self._stopping.wait(JOB_TICK_SECONDS):
            try:
                with self.account.settled():
                    pass
            except Exception:  # noqa: BLE001 - an emulator bug is shown; the next request meets it too
                traceback.print_exc(file=sys.stderr)

    def stop(self) -> None:
        self._stopping.set()
        if self._jobs_thread is not None:
            self._jobs_thread.join()
        self._server.shutdown()
        self._server.server_close()
        self.account.shutdown(terminate_instances=False)

    def __enter__(self) -> DrsEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def info(self) -> dict[str, Any]:
        account = self.account
        with account.lock:
            return {
                "endpointUrl": self.base_url,
                "landingPort": self.landing_port,
                "scenario": account.scenario.name,
                "region": self.arns.region,
                "accountId": self.arns.account_id,
                "timeScale": self.clock.time_scale,
                "emulatedNow": iso(self.clock.now()),
                "sourceServers": len(account.inventory.servers),
                "jobs": len(account.jobs.jobs),
                "recoveriesAccepted": account.jobs.recoveries_accepted,
                "recoveryInstances": len(account.instances.items),
                "calls": dict(account.faults.calls),
            }


class _Handler(DatedByArrival, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without TCP_NODELAY the second waits for the
    # client's delayed ACK, 40 ms a call on a kept-alive connection.
    disable_nagle_algorithm = True
    server_version = "Server"
    sys_version = ""
    emulator: DrsEmulator

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _dispatch(self, method: str) -> None:
        self.arrive()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            if url.path.startswith("/_emulator/"):
                self._admin(method, url.path.removeprefix("/_emulator"), raw)
            else:
                self._operation(method, url.path, parse_qs(url.query), raw)
        except (BrokenPipeError, ConnectionResetError):
            return

    # ------------------------------------------------------------------- DRS API
    def _operation(self, method: str, path: str, query: dict[str, list[str]], raw: bytes) -> None:
        account = self.emulator.account  # one account for the whole call, even across a reset
        operations = Operations(account)
        try:
            name, params = self._route(method, path, query, operations)
            if self._misbehave(name):
                return
            model = operation_model(name)
            if not account.scenario.account_initialized and any(
                error.name == "UninitializedAccountException" for error in model.error_shapes
            ):
                raise uninitialized()
            body = self._json(raw)
            validate_input(model, {**body, **params})
            answer = operations.handlers[name]({**body, **params})
            self._send(int(model.http.get("responseCode", 200)), answer)
        except DrsError as error:
            self._send_error(error)
        except Exception as error:  # noqa: BLE001 - an emulator bug answers as the service would, and is shown
            traceback.print_exc(file=sys.stderr)
            self._send_error(DrsError(ErrorType.INTERNAL_SERVER, f"Internal error: {error}"))

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], operations: Operations
    ) -> tuple[str, dict[str, Any]]:
        """The operation a request names, and the members it carries outside the body (URI, query)."""
        if path.startswith("/tags/") and method in TAG_OPERATIONS:
            params: dict[str, Any] = {"resourceArn": unquote(path.removeprefix("/tags/"))}
            if method == "DELETE":
                params["tagKeys"] = query.get("tagKeys", [])
            return TAG_OPERATIONS[method], params
        name = path.strip("/")
        if method != "POST" or name not in operations.handlers:
            raise invalid("unknownOperation", f"Unknown or unsupported operation: {method} {path}")
        return name, {}

    def _json(self, raw: bytes) -> dict[str, Any]:
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise invalid("cannotParse", f"Could not parse request body into json: {error}") from error
        if not isinstance(body, dict):
            raise invalid("cannotParse", "Request body must be a JSON object")
        return body

    def _misbehave(self, name: str) -> bool:
        """Apply the fault armed for this operation, if any. True when the answer has been given."""
        fault = self.emulator.faults.take(name)
        if fault is None:
            return False
        if fault.delay_seconds:
            time.sleep(fault.delay_seconds)
        if fault.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.error_type is not None:
            error = from_fault(fault.error_type, fault.retry_after_seconds)
            if fault.status is not None:
                error.status = fault.status
            self._send_error(error)
            return True
        if fault.status is not None:
            message = BARE_STATUS_MESSAGES.get(fault.status, "Error")
            headers = {} if fault.retry_after_seconds is None else {"Retry-After": str(fault.retry_after_seconds)}
            self._send(fault.status, {"message": message}, headers)
            return True
        return False

    def _send_error(self, error: DrsError) -> None:
        headers = {"X-Amzn-ErrorType": error.error_type.value + ERROR_TYPE_SUFFIX, **error.headers}
        self._send(error.status, error.body(), headers)

    # --------------------------------------------------------------------- admin
    def _admin(self, method: str, path: str, raw: bytes) -> None:
        emulator = self.emulator
        try:
            body = json.loads(raw) if raw.strip() else {}
            if (method, path) == ("GET", "/info"):
                self._send(200, emulator.info())
            elif (method, path) == ("POST", "/faults"):
                spec = FaultSpec.model_validate(body)
                emulator.faults.arm(spec)
                self._send(201, {"armed": spec.model_dump(by_alias=True, exclude_none=True)})
            elif (method, path) == ("DELETE", "/faults"):
                self._send(200, {"disarmed": emulator.faults.clear()})
            elif (method, path) == ("POST", "/clock/advance"):
                emulator.clock.advance(float(body.get("seconds", 0)))
                self._send(200, emulator.info())
            elif (method, path) == ("POST", "/landing"):
                landing = emulator.account.hosts.landing
                landing.spec = LandingPageSpec.model_validate({**landing.spec.model_dump(by_alias=True), **body})
                self._send(200, landing.spec.model_dump(by_alias=True))
            elif (method, path) == ("POST", "/reset"):
                emulator.reset(body.get("scenario", "two-tier"), body.get("machineCount"))
                self._send(200, emulator.info())
            else:
                raise AdminError(404, f"No such admin resource: {method} /_emulator{path}")
        except AdminError as error:
            self._send(error.status, {"message": str(error)})
        except (ValidationError, ValueError, TypeError, AttributeError) as error:
            self._send(400, {"message": f"Bad admin request: {error}"})
