"""HTTP front of the emulator: the CloudEndure v5 routes plus an `/_emulator` admin API.

The admin API is not part of CloudEndure; tests and the drill use it to inject faults, move
the clock, expire sessions, fail the running job, change the landing page or load another
scenario, and to read call counters.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from local.cloudendure.clock import Clock, DatedByArrival, iso
from local.cloudendure.errors import ApiError
from local.cloudendure.landing import LandingPages, QuietServer
from local.cloudendure.scenario import FaultKind, FaultSpec, LandingPageSpec, Scenario, load_scenario
from local.cloudendure.sessions import Sessions
from local.cloudendure.state import Account

API_PREFIXES = ("/api/latest", "/api/v5")
DEFAULT_PAGE_LIMIT = 1500
USER = {"id": "b0b0b0b0-1111-4222-8333-944444444444", "username": "dr-autopilot@example.com", "account": "emulated"}

Route = tuple[str, "re.Pattern[str]", str]
ROUTES: list[Route] = [
    ("POST", re.compile(r"^/login$"), "login"),
    ("POST", re.compile(r"^/logout$"), "logout"),
    ("GET", re.compile(r"^/projects$"), "projects"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)$"), "project"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)/machines$"), "machines"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)/machines/(?P<machine>[^/]+)$"), "machine"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)/machines/(?P<machine>[^/]+)/pointsintime$"), "pointsintime"),
    ("POST", re.compile(r"^/projects/(?P<project>[^/]+)/launchMachines$"), "launchMachines"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)/jobs$"), "jobs"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)/jobs/(?P<job>[^/]+)$"), "job"),
    ("GET", re.compile(r"^/projects/(?P<project>[^/]+)/replicas/(?P<replica>[^/]+)$"), "replica"),
    ("DELETE", re.compile(r"^/projects/(?P<project>[^/]+)/replicas$"), "deleteReplicas"),
]


def _page(query: dict[str, list[str]]) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        raw = query.get(name, [str(default)])[0]
        if not raw.isdigit():
            raise ApiError(400, f"{name} must be a non-negative integer, got {raw!r}", "BAD_REQUEST")
        return int(raw)

    offset, limit = number("offset", 0), number("limit", DEFAULT_PAGE_LIMIT)
    if limit == 0:
        raise ApiError(400, "limit must be at least 1", "BAD_REQUEST")
    return offset, limit


class CloudEndureEmulator:
    """A CloudEndure v5 API on loopback. Use as a context manager, or `start()`/`stop()`."""

    def __init__(
        self,
        scenario: str | Scenario = "two-tier",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_token: str | None = None,
        time_scale: float = 1.0,
        clock: Clock | None = None,
        machine_count: int | None = None,
        session_ttl_seconds: float | None = None,
    ) -> None:
        self.api_token = api_token or secrets.token_urlsafe(32)
        self.clock = clock or Clock(time_scale)
        self._session_ttl_override = session_ttl_seconds
        self._landing_port: int | None = None
        self.account = self._build_account(scenario, machine_count)
        emulator = self

        class Handler(_ApiHandler):
            pass

        Handler.emulator = emulator
        self._server = QuietServer((host, port), Handler)
        self._server.daemon_threads = True
        self.host, self.port = host, int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    def _build_account(self, scenario: str | Scenario, machine_count: int | None) -> Account:
        loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario, machine_count)
        if self._session_ttl_override is not None:
            loaded = loaded.model_copy(update={"session_ttl_seconds": self._session_ttl_override})
        landing = LandingPages(loaded.landing_page, self._landing_port)
        self._landing_port = landing.port
        return Account(loaded, self.clock, self.api_token, landing)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/api/latest"

    @property
    def admin_url(self) -> str:
        return f"http://{self.host}:{self.port}/_emulator"

    @property
    def landing_port(self) -> int:
        return self.account.landing.port

    def reset(self, scenario: str | Scenario = "two-tier", machine_count: int | None = None) -> None:
        """Load a scenario afresh (new project state, same server, token and landing port)."""
        new_account = self._build_account(scenario, machine_count)
        old, self.account = self.account, new_account
        old.shutdown()

    def rotate_token(self, new_token: str) -> None:
        """The account's API token is replaced (as an administrator rotates it): only the new one
        logs in from now on, and every session ends."""
        self.api_token = new_token
        self.account.sessions.api_token = new_token
        self.account.sessions.expire_all()

    def start(self) -> CloudEndureEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, name="cloudendure-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.account.shutdown()

    def __enter__(self) -> CloudEndureEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def info(self) -> dict[str, Any]:
        account = self.account
        return {
            "baseUrl": self.base_url,
            "landingPort": self.landing_port,
            "scenario": account.scenario.name,
            "projectId": account.project_id,
            "timeScale": self.clock.time_scale,
            "emulatedNow": iso(self.clock.now()),
        }


class _ApiHandler(DatedByArrival, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle's algorithm and the client's delayed ACK
    # each answer on a kept-alive connection would wait ~40 ms.
    disable_nagle_algorithm = True
    server_version = "CloudEndure"
    sys_version = ""
    emulator: CloudEndureEmulator

    # ------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def _send(
        self, status: int, body: Any, headers: dict[str, str] | None = None, cookies: list[str] | None = None
    ) -> None:
        payload = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for cookie in cookies or []:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, error: ApiError, headers: dict[str, str] | None = None) -> None:
        self._send(error.status, {"message": error.message, "code": error.code}, headers)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            raise ApiError(400, f"Request body is not valid JSON: {error.msg}", "BAD_REQUEST") from error

    def _cookie(self, name: str) -> str | None:
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("Cookie") or "")
        except Exception:  # noqa: BLE001 - a malformed cookie header is simply no session
            return None
        morsel = jar.get(name)
        return morsel.value if morsel else None

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    # ------------------------------------------------------------------ dispatch
    def _dispatch(self, method: str) -> None:
        self.arrive()
        url = urlsplit(self.path)
        try:
            if url.path.startswith("/_emulator/"):
                self._admin(method, url.path.removeprefix("/_emulator"))
                return
            prefix = next((p for p in API_PREFIXES if url.path == p or url.path.startswith(p + "/")), None)
            if prefix is None:
                raise ApiError(404, f"No such resource: {url.path}", "NOT_FOUND")
            path = url.path[len(prefix) :] or "/"
            for route_method, pattern, name in ROUTES:
                match = pattern.match(path)
                if match and route_method == method:
                    self._api(name, prefix, match.groupdict(), parse_qs(url.query))
                    return
            if any(pattern.match(path) for _, pattern, _ in ROUTES):
                raise ApiError(405, f"Method {method} not allowed on {path}", "METHOD_NOT_ALLOWED")
            raise ApiError(404, f"No such resource: {path}", "NOT_FOUND")
        except ApiError as error:
            self._error(error)
        except (BrokenPipeError, ConnectionResetError):
            return

    def _apply_fault(self, route: str) -> bool:
        """Misbehave if a fault is armed for this route. True when the answer has been given."""
        fault = self.emulator.account.faults.take(route)
        if fault is None:
            return False
        if fault.kind is FaultKind.DELAY:
            time.sleep(fault.delay_seconds)
            return False
        if fault.kind is FaultKind.DROP_AFTER:
            return False  # _api lets the call take effect, then drops the connection
        if fault.kind is FaultKind.DROP:
            self._body()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.kind is FaultKind.MALFORMED:
            self._body()
            self._send(200, {"items": [{"id": 12345, "status": ["?"]}], "id": None})
            return True
        self._body()
        headers = {"Retry-After": str(fault.retry_after_seconds)} if fault.retry_after_seconds is not None else {}
        messages = {
            "429": "Too many requests",
            "500": "Internal server error",
            "502": "Bad gateway",
            "503": "Service unavailable",
        }
        self._error(ApiError(int(fault.kind.value), messages[fault.kind.value], "TRANSIENT"), headers)
        return True

    def _api(self, name: str, prefix: str, params: dict[str, str], query: dict[str, list[str]]) -> None:
        answer_lost = self.emulator.account.faults.peek(name) is FaultKind.DROP_AFTER
        if self._apply_fault(name):
            return
        if answer_lost:
            self._answer_then_drop(name, params)
            return
        account = self.emulator.account
        resources = account.resources
        if name == "login":
            body = self._body()
            if account.scenario.login_redirect and prefix == "/api/latest":
                self._send(307, None, {"Location": "/api/v5/login", "X-CloudEndure-Version": "v5"})
                return
            session = account.sessions.login(body)
            self._send(
                200,
                USER,
                {"X-CloudEndure-Version": "v5"},
                cookies=[
                    f"session={session.session_id}; Path=/; HttpOnly",
                    f'XSRF-TOKEN="{session.xsrf_token}"; Path=/',
                ],
            )
            return
        account.sessions.authenticate(self._cookie("session"), self.headers.get("X-XSRF-TOKEN"))
        handler: Callable[[], tuple[int, Any]] = {
            "logout": lambda: self._logout(account.sessions),
            "projects": lambda: (200, {"items": [resources.project_details(account.project_id)]}),
            "project": lambda: (200, resources.project_details(params["project"])),
            "machines": lambda: (200, {"items": resources.machine_page(params["project"], *_page(query))}),
            "machine": lambda: (200, resources.machine(params["project"], params["machine"])),
            "pointsintime": lambda: (
                200,
                {"items": self._slice(resources.points_in_time(params["project"], params["machine"]), query)},
            ),
            "launchMachines": lambda: (202, resources.launch(params["project"], self._body(), USER["username"])),
            "jobs": lambda: (200, {"items": resources.job_page(params["project"], *_page(query))}),
            "job": lambda: (200, resources.job(params["project"], params["job"])),
            "replica": lambda: (200, resources.replica(params["project"], params["replica"])),
            "deleteReplicas": lambda: (
                202,
                resources.delete_replicas(params["project"], self._body(), USER["username"]),
            ),
        }[name]
        status, body = handler()
        self._send(status, body)

    def _answer_then_drop(self, name: str, params: dict[str, str]) -> None:
        """Do what the call asks (a launch really starts), but never deliver the answer."""
        account = self.emulator.account
        account.sessions.authenticate(self._cookie("session"), self.headers.get("X-XSRF-TOKEN"))
        if name == "launchMachines":
            account.resources.launch(params["project"], self._body(), USER["username"])
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _logout(self, sessions: Sessions) -> tuple[int, None]:
        sessions.logout(self._cookie("session"))
        return 204, None

    @staticmethod
    def _slice(items: list[Any], query: dict[str, list[str]]) -> list[Any]:
        offset, limit = _page(query)
        return items[offset : offset + limit]

    # --------------------------------------------------------------------- admin
    def _admin(self, method: str, path: str) -> None:
        emulator, account = self.emulator, self.emulator.account
        body = self._body() if method == "POST" else None
        try:
            if (method, path) == ("GET", "/info"):
                self._send(200, emulator.info())
            elif (method, path) == ("GET", "/calls"):
                self._send(200, {"calls": dict(account.faults.calls), "launchesAccepted": account.launches_accepted})
            elif (method, path) == ("POST", "/faults"):
                account.faults.arm(FaultSpec.model_validate(body or {}))
                self._send(201, {"armed": body})
            elif (method, path) == ("POST", "/sessions/expire"):
                self._send(200, {"expired": account.sessions.expire_all()})
            elif (method, path) == ("POST", "/jobs/fail"):
                self._send(200, {"failed": account.jobs.fail_running()})
            elif (method, path) == ("POST", "/clock/advance"):
                emulator.clock.advance(float((body or {}).get("seconds", 0)))
                self._send(200, emulator.info())
            elif (method, path) == ("POST", "/landing"):
                account.landing.spec = LandingPageSpec.model_validate(
                    {**account.landing.spec.model_dump(by_alias=True), **(body or {})}
                )
                self._send(200, account.landing.spec.model_dump(by_alias=True))
            elif (method, path) == ("POST", "/reset"):
                emulator.reset((body or {}).get("scenario", "two-tier"), (body or {}).get("machineCount"))
                self._send(200, emulator.info())
            else:
                raise ApiError(404, f"No such admin resource: {method} /_emulator{path}", "NOT_FOUND")
        except (ValidationError, ValueError, TypeError) as error:
            raise ApiError(400, f"Bad admin request: {error}", "BAD_REQUEST") from error
