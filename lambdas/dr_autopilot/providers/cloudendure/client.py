"""The CloudEndure v5 API client: one session, bounded retries, typed answers, named errors.

- Login with the API token (fetched on demand from a callable, never stored or logged); the
  `XSRF-TOKEN` cookie is echoed as the `X-XSRF-TOKEN` header, quotes stripped; a 307 on login
  is followed and the redirected API version is used from then on.
- On 401 the client logs in once more and repeats the call; a second 401 is AuthenticationFailed.
- Every call has a timeout. 429, 5xx and connection faults are retried by urllib3 with bounded
  exponential backoff that honours `Retry-After` (capped). A POST is retried only when the
  service says it did not take it (429, 503) or the connection never opened: a launch whose
  answer was lost is never blindly sent again.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from dr_autopilot.errors import (
    AuthenticationFailed,
    InvalidResponse,
    JobAlreadyRunning,
    JobNotFound,
    LicenseExpired,
    MachineNotFound,
    NotFound,
    ProjectNotFound,
    ProviderError,
    ReplicaNotFound,
    RequestRejected,
    ServiceUnavailable,
)
from dr_autopilot.providers.cloudendure.models import (
    Job,
    LaunchItem,
    LaunchType,
    Machine,
    PointInTime,
    Project,
    Replica,
)

DEFAULT_BASE_URL = "https://console.cloudendure.com/api/latest"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
NOT_TAKEN_STATUSES = frozenset({429, 503})
Model = TypeVar("Model", bound=BaseModel)


class _RetryPolicy(Retry):
    """urllib3 Retry that also repeats a POST when the service answered 429/503, and caps Retry-After."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST":
            if status_code not in NOT_TAKEN_STATUSES:
                return False
            method = "GET"  # the request was not taken, so sending it again is safe
        return super().is_retry(method, status_code, has_retry_after)

    def get_retry_after(self, response: Any) -> float | None:
        retry_after = super().get_retry_after(response)
        return None if retry_after is None else min(retry_after, self.backoff_max)


@dataclass
class ClientStats:
    """What the client had to do to get its answers; tests and benchmarks read it."""

    requests: int = 0
    retries: int = 0
    relogins: int = 0


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 4
    backoff_factor: float = 0.25
    backoff_max: float = 4.0
    connect_timeout: float = 3.05
    read_timeout: float = 15.0


DEFAULT_RETRY = RetrySettings()


MAX_REDIRECTS = 3


def _origin(url: str) -> tuple[str, str | None, int | None]:
    """(scheme, host, port) as urllib3 reads them (requests connects to what urllib3 parses)."""
    parsed = parse_url(url)
    scheme = (parsed.scheme or "").lower()
    return (scheme, (parsed.host or "").lower() or None, parsed.port or {"https": 443, "http": 80}.get(scheme))


class CloudEndureClient:
    """A client for one CloudEndure account. Not thread-safe; create one per Lambda invocation or reuse."""

    def __init__(
        self,
        api_token: Callable[[], str],
        base_url: str = DEFAULT_BASE_URL,
        retry: RetrySettings = DEFAULT_RETRY,
        session: requests.Session | None = None,
        fresh_api_token: Callable[[], str] | None = None,
    ) -> None:
        """`fresh_api_token`: the token read again from its source, bypassing any cache (a login
        refused with 401 tries it once: a rotated token takes effect at once)."""
        if not base_url.startswith(("https://", "http://")):
            raise ValueError(f"CloudEndure base URL must be http(s), got {base_url!r}")
        self._api_token = api_token
        self._fresh_api_token = fresh_api_token
        self._base_url = base_url.rstrip("/")
        self._retry = retry
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": "dr-autopilot"})
        adapter = HTTPAdapter(
            max_retries=_RetryPolicy(
                total=retry.attempts,
                backoff_factor=retry.backoff_factor,
                backoff_max=retry.backoff_max,
                status_forcelist=RETRYABLE_STATUSES,
                allowed_methods=frozenset({"GET", "HEAD", "DELETE"}),
                respect_retry_after_header=True,
                raise_on_status=False,
            )
        )
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._logged_in = False
        # Lookups run 8 at a time: after a 401 one of them logs in again and the others use its
        # session, or its failure. Each login (successful or not) is one generation.
        self._login_lock = threading.Lock()
        self._login_generation = 0
        self._login_failure: tuple[int, ProviderError] | None = None
        self._server_time: datetime | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:
        return f"CloudEndureClient(base_url={self._base_url!r})"

    @property
    def base_url(self) -> str:
        return self._base_url

    def server_time(self) -> datetime:
        """The service's clock, from the `Date` header of its last answer (UTC now before any call).

        Lag and job age are measured on the service's own clock so that a skewed Lambda clock
        cannot make a stale machine look fresh.
        """
        return self._server_time or datetime.now(UTC)

    # ------------------------------------------------------------------ session
    def login(self) -> None:
        """Open a session with the API token; raises AuthenticationFailed or LicenseExpired."""
        response = self._send("POST", "/login", json_body={"userApiToken": self._api_token()})
        if response.status_code == 401 and self._fresh_api_token is not None:
            self.stats.relogins += 1  # perhaps rotated: read the secret again, once
            response = self._send("POST", "/login", json_body={"userApiToken": self._fresh_api_token()})
        if response.status_code == 401:
            raise AuthenticationFailed("CloudEndure refused the API token (401)")
        self._raise_for_status(response, "POST /login")
        if response.url and not response.url.startswith(self._base_url + "/login"):  # a 307 to a versioned path
            self._base_url = response.url.rsplit("/login", 1)[0]
        xsrf = next((cookie.value for cookie in self._session.cookies if cookie.name == "XSRF-TOKEN"), None)
        if not xsrf:
            raise InvalidResponse("login succeeded but set no XSRF-TOKEN cookie")
        self._session.headers["X-XSRF-TOKEN"] = xsrf.strip('"')
        self._logged_in = True
        self._login_generation += 1

    def _log_in_after(self, seen: int, again: bool) -> None:
        """Log in, unless another thread has tried since login generation `seen`: then use its
        session, or fail as it failed, without asking again (8 lookups each retrying a revoked
        token would lock the account). A later call, which saw that failure, tries afresh."""
        with self._login_lock:
            if self._login_generation != seen:
                failure = self._login_failure
                if failure is not None and failure[0] == self._login_generation:
                    raise type(failure[1])(str(failure[1]))
                return
            self.stats.relogins += int(again)
            try:
                self.login()
            except ProviderError as error:
                self._login_generation += 1
                self._login_failure = (self._login_generation, error)
                raise

    def logout(self) -> None:
        if self._logged_in:
            self._call("POST", "/logout", expect=(200, 204))
            self._logged_in = False

    # ---------------------------------------------------------------- resources
    def projects(self) -> list[Project]:
        return list(self._paginate("/projects", Project))

    def find_project(self, name: str) -> Project:
        projects = self.projects()
        for project in projects:
            if project.name == name:
                return project
        known = ", ".join(sorted(p.name for p in projects)) or "none"
        raise ProjectNotFound(f"no CloudEndure project named {name!r} (projects: {known})")

    def machines(self, project_id: str, page_size: int = 500) -> Iterator[Machine]:
        """Every machine of the project, fetched page by page as the iterator advances."""
        return self._paginate(f"/projects/{project_id}/machines", Machine, page_size, not_found=ProjectNotFound)

    def machine(self, project_id: str, machine_id: str) -> Machine:
        body = self._call("GET", f"/projects/{project_id}/machines/{machine_id}", not_found=MachineNotFound)
        return self._parse(Machine, body)

    def points_in_time(self, project_id: str, machine_id: str) -> list[PointInTime]:
        path = f"/projects/{project_id}/machines/{machine_id}/pointsintime"
        return sorted(self._paginate(path, PointInTime, not_found=MachineNotFound), key=lambda p: p.date_time)

    def launch(self, project_id: str, launch_type: LaunchType, items: list[LaunchItem]) -> Job:
        """Start a launch job; JobAlreadyRunning on 409, RequestRejected on 400."""
        body = {
            "launchType": launch_type.value,
            "items": [item.model_dump(by_alias=True, exclude_none=True) for item in items],
        }
        return self._parse(
            Job, self._call("POST", f"/projects/{project_id}/launchMachines", json_body=body, expect=(200, 202))
        )

    def jobs(self, project_id: str) -> Iterator[Job]:
        return self._paginate(f"/projects/{project_id}/jobs", Job, not_found=ProjectNotFound)

    def job(self, project_id: str, job_id: str) -> Job:
        return self._parse(Job, self._call("GET", f"/projects/{project_id}/jobs/{job_id}", not_found=JobNotFound))

    def replica(self, project_id: str, replica_id: str) -> Replica:
        body = self._call("GET", f"/projects/{project_id}/replicas/{replica_id}", not_found=ReplicaNotFound)
        return self._parse(Replica, body)

    def delete_replicas(self, project_id: str, replica_ids: list[str]) -> Job:
        body = self._call(
            "DELETE", f"/projects/{project_id}/replicas", json_body={"replicaIDs": replica_ids}, expect=(200, 202)
        )
        return self._parse(Job, body)

    # ----------------------------------------------------------------- plumbing
    def _send(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> requests.Response:
        self.stats.requests += 1
        url = self._base_url + path
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    timeout=(self._retry.connect_timeout, self._retry.read_timeout),
                    allow_redirects=False,  # followed below, on the API host only
                )
                if not response.is_redirect:
                    break
                url = urljoin(url, response.headers["Location"])
                params = None  # the Location carries its own query
                if _origin(url) != _origin(self._base_url):
                    raise InvalidResponse(
                        f"{method} {path} was redirected to {_origin(url)[1]}, not the configured API host: "
                        "the token and session are only ever sent to the configured host"
                    )
            else:
                raise InvalidResponse(f"{method} {path} was redirected more than {MAX_REDIRECTS} times")
        except requests.RequestException as error:
            self.stats.retries += self._retry.attempts
            raise ServiceUnavailable(
                f"{method} {path} failed after {self._retry.attempts} retries: {type(error).__name__}"
            ) from error
        date = response.headers.get("Date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self._server_time = parsedate_to_datetime(date).astimezone(UTC)
        history = getattr(getattr(response.raw, "retries", None), "history", ())
        self.stats.retries += len(history)
        return response

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        expect: tuple[int, ...] = (200,),
        not_found: type[NotFound] = NotFound,
    ) -> Any:
        seen = self._login_generation
        if not self._logged_in:
            self._log_in_after(seen, again=False)
            seen = self._login_generation
        response = self._send(method, path, params=params, json_body=json_body)
        if response.status_code == 401:  # the session expired: log in once more and repeat
            self._log_in_after(seen, again=True)
            response = self._send(method, path, params=params, json_body=json_body)
            if response.status_code == 401:
                raise AuthenticationFailed(f"{method} {path} refused with 401 right after a fresh login")
        self._raise_for_status(response, f"{method} {path}", not_found)
        if response.status_code not in expect:
            raise InvalidResponse(f"{method} {path} answered HTTP {response.status_code}, expected {expect}")
        if not response.content:
            return None
        try:
            return response.json()
        except json.JSONDecodeError as error:
            raise InvalidResponse(f"{method} {path} answered with a body that is not JSON") from error

    @staticmethod
    def _raise_for_status(response: requests.Response, what: str, not_found: type[NotFound] = NotFound) -> None:
        status = response.status_code
        if status < 400:
            return
        message = CloudEndureClient._error_message(response)
        if status == 400:
            raise RequestRejected(f"{what} rejected: {message}")
        if status == 401:
            raise AuthenticationFailed(f"{what}: {message}")
        if status == 402:
            raise LicenseExpired(f"{what}: {message}")
        if status == 404:
            raise not_found(f"{what}: {message}")
        if status == 409:
            raise JobAlreadyRunning(f"{what}: {message}")
        if status in RETRYABLE_STATUSES:
            raise ServiceUnavailable(f"{what} still answered HTTP {status} after the retries: {message}")
        raise InvalidResponse(f"{what} answered HTTP {status}: {message}")

    @staticmethod
    def _error_message(response: requests.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return response.reason or "no message"
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return str(body["message"])[:500]
        return response.reason or "no message"

    @staticmethod
    def _parse(model: type[Model], body: Any) -> Model:
        try:
            return model.model_validate(body)
        except ValidationError as error:
            fields = ", ".join(".".join(str(part) for part in e["loc"]) or "(root)" for e in error.errors()[:5])
            raise InvalidResponse(
                f"CloudEndure returned a {model.__name__} that does not fit the API: {fields}"
            ) from None

    def _paginate(
        self, path: str, model: type[Model], page_size: int = 500, not_found: type[NotFound] = NotFound
    ) -> Iterator[Model]:
        offset = 0
        while True:
            body = self._call("GET", path, params={"offset": offset, "limit": page_size}, not_found=not_found)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise InvalidResponse(f"GET {path} answered without an 'items' list")
            for item in items:
                yield self._parse(model, item)
            if len(items) < page_size:
                return
            offset += page_size
