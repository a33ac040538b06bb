"""The AWS Elastic Disaster Recovery client: the boto3 `drs` client's calls, typed answers,
pagination, and DRS's errors turned into the workflow's named errors in one place.

Retries are botocore's (standard mode, `clients.aws.RETRY_CONFIG`): throttling, 5xx and dropped
connections are retried with bounded backoff; what is still failing after them is
ServiceUnavailable. A ConflictException is never retried into a second launch: it is
JobAlreadyRunning (the provider first checks whether the conflict is with its own earlier
attempt, whose answer was lost).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
)
from pydantic import BaseModel, ValidationError

from dr_autopilot.errors import (
    AccessDenied,
    AuthenticationFailed,
    InvalidResponse,
    JobAlreadyRunning,
    JobNotFound,
    MachineNotFound,
    NotFound,
    ProviderError,
    QuotaExceeded,
    RequestRejected,
    ServiceNotInitialized,
    ServiceUnavailable,
)
from dr_autopilot.providers.drs.models import Job, JobLogItem, RecoveryInstance, RecoverySnapshot, SourceServer

Model = TypeVar("Model", bound=BaseModel)

PAGE_SIZE = 1000  # DRS's largest page
# Job logs are read in smaller pages: a read resumes after the last page that carried a token, so
# a poll re-reads at most this many items of each job besides the new ones.
LOG_PAGE_SIZE = 200
MAX_SERVERS_PER_FILTER = 200  # DescribeSourceServers.filters.sourceServerIDs
MAX_JOBS_PER_FILTER = 1000  # DescribeJobs.filters.jobIDs
MAX_SERVERS_PER_JOB = 200  # StartRecovery.sourceServers
MAX_INSTANCES_PER_TERMINATION = 200  # TerminateRecoveryInstances.recoveryInstanceIDs
TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "InternalServerException", "ServiceUnavailable", "RequestTimeout", "Throttling"}
)
CREDENTIAL_CODES = frozenset(
    {"UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException", "InvalidClientTokenId"}
)


def iso(moment: datetime) -> str:
    """A timestamp as DRS's filters take it: UTC, ending in `Z` (the model's pattern)."""
    if moment.tzinfo is None:
        raise ValueError("a DRS timestamp needs a time zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class DrsClient:
    """DRS for one account and region, over a boto3 `drs` client (thread-safe, as boto3 clients are)."""

    def __init__(self, drs: Any) -> None:
        self._drs = drs
        self._clock_offset = timedelta()  # DRS's clock minus ours, from its answers' Date headers
        drs.meta.events.register("after-call.drs", self._read_clock)

    def _read_clock(self, http_response: Any = None, **_: Any) -> None:
        date = getattr(http_response, "headers", {}).get("Date") if http_response is not None else None
        try:
            answered = parsedate_to_datetime(date) if date else None
        except (TypeError, ValueError):
            return
        if answered is not None and answered.tzinfo is not None:
            self._clock_offset = answered - datetime.now(UTC)

    def server_time(self) -> datetime:
        """Now on DRS's clock, as its last answer's Date header said (to the second; our clock
        until it has answered): job ages and agent silences are measured against DRS's own times."""
        return datetime.now(UTC) + self._clock_offset

    def __repr__(self) -> str:
        return f"DrsClient(region={self.region!r})"

    @property
    def region(self) -> str:
        return str(self._drs.meta.region_name)

    # ------------------------------------------------------------------------- source servers
    def source_servers(self, ids: list[str] | None = None) -> list[SourceServer]:
        """Every source server (one paginated listing), or those with these IDs (listed 200 at a time)."""
        if ids is None:
            return self._paginate("describe_source_servers", SourceServer, {})
        servers: list[SourceServer] = []
        for start in range(0, len(ids), MAX_SERVERS_PER_FILTER):
            chunk = ids[start : start + MAX_SERVERS_PER_FILTER]
            servers += self._paginate("describe_source_servers", SourceServer, {"filters": {"sourceServerIDs": chunk}})
        return servers

    def newest_snapshot(self, source_server_id: str, at_or_before: datetime) -> RecoverySnapshot | None:
        """The newest recovery snapshot of the server taken at or before the moment (None if none)."""
        body = self._call(
            "describe_recovery_snapshots",
            {
                "sourceServerID": source_server_id,
                "order": "DESC",
                "filters": {"toDateTime": iso(at_or_before)},
                "maxResults": 1,
            },
            not_found=MachineNotFound,
        )
        items = self._items(body, "describe_recovery_snapshots")
        return self._parse(RecoverySnapshot, items[0]) if items else None

    # ------------------------------------------------------------------------------------ jobs
    def start_recovery(self, servers: list[tuple[str, str | None]], is_drill: bool, tags: dict[str, str]) -> Job:
        """One recovery (or drill) job for these (source server ID, snapshot ID or None = latest)."""
        if not 1 <= len(servers) <= MAX_SERVERS_PER_JOB:
            raise ValueError(f"a DRS job takes 1 to {MAX_SERVERS_PER_JOB} source servers, not {len(servers)}")
        source_servers = [
            {"sourceServerID": server_id} | ({"recoverySnapshotID": snapshot_id} if snapshot_id else {})
            for server_id, snapshot_id in servers
        ]
        body = self._call(
            "start_recovery",
            {"isDrill": is_drill, "sourceServers": source_servers, "tags": tags},
            not_found=MachineNotFound,
        )
        if not isinstance(body, dict) or not isinstance(body.get("job"), dict):
            raise InvalidResponse("StartRecovery answered without a job")
        return self._parse(Job, body["job"])

    def terminate_recovery_instances(self, recovery_instance_ids: list[str]) -> Job:
        """One TERMINATE job for these recovery instances (1 to 200)."""
        if not 1 <= len(recovery_instance_ids) <= MAX_INSTANCES_PER_TERMINATION:
            raise ValueError(
                f"a DRS termination takes 1 to {MAX_INSTANCES_PER_TERMINATION} instances, not {len(recovery_instance_ids)}"
            )
        body = self._call("terminate_recovery_instances", {"recoveryInstanceIDs": recovery_instance_ids})
        if not isinstance(body, dict) or not isinstance(body.get("job"), dict):
            raise InvalidResponse("TerminateRecoveryInstances answered without a job")
        return self._parse(Job, body["job"])

    def jobs_since(self, since: datetime) -> list[Job]:
        """Every job created at or after `since` (paginated)."""
        return self._paginate("describe_jobs", Job, {"filters": {"fromDate": iso(since)}})

    def jobs(self, job_ids: list[str]) -> list[Job]:
        """These jobs, in the order given; JobNotFound naming any DRS does not know."""
        found: dict[str, Job] = {}
        for start in range(0, len(job_ids), MAX_JOBS_PER_FILTER):
            chunk = job_ids[start : start + MAX_JOBS_PER_FILTER]
            for job in self._paginate("describe_jobs", Job, {"filters": {"jobIDs": chunk}}):
                found[job.id] = job
        missing = [job_id for job_id in job_ids if job_id not in found]
        if missing:
            raise JobNotFound(f"DRS knows no job {', '.join(missing[:5])}")
        return [found[job_id] for job_id in job_ids]

    def job_log(self, job_id: str) -> list[JobLogItem]:
        """The job's log items, oldest first (paginated)."""
        return self._paginate("describe_job_log_items", JobLogItem, {"jobID": job_id}, not_found=JobNotFound)

    def job_log_from(self, job_id: str, token: str | None) -> tuple[list[JobLogItem], list[JobLogItem], str | None]:
        """The job's log items from `token` on (from the start without one), split where the
        last page that carried a nextToken ends: (items before it, items after it, that token).
        A job's log only grows, so the items before the token are final and a later read can
        resume from it instead of reading thousands of items again."""
        settled: list[JobLogItem] = []
        while True:
            page = {"jobID": job_id, "maxResults": LOG_PAGE_SIZE} | ({"nextToken": token} if token else {})
            body = self._call("describe_job_log_items", page, JobNotFound)
            items = [self._parse(JobLogItem, item) for item in self._items(body, "describe_job_log_items")]
            following = body.get("nextToken")
            if not following:
                return settled, items, token
            settled += items
            token = following

    # ---------------------------------------------------------------------- recovery instances
    def recovery_instances(self, ids: list[str]) -> list[RecoveryInstance]:
        """The recovery instances with these IDs that exist (none for an unknown ID)."""
        if not ids:
            return []
        return self._paginate(
            "describe_recovery_instances", RecoveryInstance, {"filters": {"recoveryInstanceIDs": ids}}
        )

    # --------------------------------------------------------------------------------- plumbing
    def _call(self, operation: str, params: dict[str, Any], not_found: type[NotFound] = NotFound) -> Any:
        with _named_errors(operation, not_found):
            return getattr(self._drs, operation)(**params)

    def _paginate(
        self, operation: str, model: type[Model], params: dict[str, Any], not_found: type[NotFound] = NotFound
    ) -> list[Model]:
        results: list[Model] = []
        token: str | None = None
        while True:
            page = {**params, "maxResults": PAGE_SIZE} | ({"nextToken": token} if token else {})
            body = self._call(operation, page, not_found)
            results += [self._parse(model, item) for item in self._items(body, operation)]
            token = body.get("nextToken")
            if not token:
                return results

    @staticmethod
    def _items(body: Any, operation: str) -> list[Any]:
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise InvalidResponse(f"{operation} answered without an 'items' list")
        return items

    @staticmethod
    def _parse(model: type[Model], body: Any) -> Model:
        try:
            return model.model_validate(body)
        except ValidationError as error:
            fields = ", ".join(".".join(str(part) for part in e["loc"]) or "(root)" for e in error.errors()[:5])
            raise InvalidResponse(f"DRS returned a {model.__name__} that does not fit the API: {fields}") from None


@contextmanager
def _named_errors(operation: str, not_found: type[NotFound]) -> Iterator[None]:
    """botocore's errors as the workflow's named errors (the contract Retry/Catch match)."""
    try:
        yield
    except ClientError as error:
        raise _from_client_error(operation, error, not_found) from error
    except NoCredentialsError as error:
        raise AuthenticationFailed(f"{operation}: no AWS credentials were found") from error
    except ParamValidationError as error:
        raise RequestRejected(f"{operation} was not sent: {error}") from error
    except BotoCoreError as error:  # connection refused or dropped, timeouts, beyond botocore's retries
        raise ServiceUnavailable(f"{operation} failed after botocore's retries: {type(error).__name__}") from error


def _from_client_error(operation: str, error: ClientError, not_found: type[NotFound]) -> ProviderError:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    message = str(details.get("Message", "") or "no message")[:500]
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    what = f"{operation}: {code or f'HTTP {status}'}: {message}"
    if code == "ConflictException":
        return JobAlreadyRunning(what)
    if code in TRANSIENT_CODES or status == 429 or status >= 500:
        return ServiceUnavailable(f"{what} (still failing after botocore's retries)")
    if code == "ResourceNotFoundException":
        return not_found(what)
    if code == "ValidationException":
        return RequestRejected(what)
    if code == "AccessDeniedException":
        return AccessDenied(what)
    if code == "UninitializedAccountException":
        return ServiceNotInitialized(f"{what}: initialize Elastic Disaster Recovery in this region first")
    if code == "ServiceQuotaExceededException":
        quota = error.response.get("quotaCode") or details.get("quotaCode")
        return QuotaExceeded(f"{what}{f' (quota {quota})' if quota else ''}")
    if code in CREDENTIAL_CODES:
        return AuthenticationFailed(what)
    if status == 400:
        return RequestRejected(what)
    return InvalidResponse(what)
