"""The recovery provider interface: what the workflow needs from CloudEndure today and from
AWS Elastic Disaster Recovery tomorrow. The workflow and its logic only see this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dr_autopilot.models import LaunchResult, Mode, ProviderJobStatus, RecoveryPoint, ReplicationReport, Target


@dataclass(frozen=True)
class JobSnapshot:
    """One look at a launch job. `new_lines` are the log lines after the first `seen` ones."""

    status: ProviderJobStatus
    log_total: int
    new_lines: list[str]
    converters_finished_at: datetime | None
    created_at: datetime
    ended_at: datetime | None
    provider_now: datetime


class RecoveryProvider(Protocol):
    def assess_replication(self) -> ReplicationReport:
        """Verdict for every configured machine (bounded list of problems, counters for the rest)."""
        ...

    def resolve_recovery_point(self, requested: datetime | None) -> RecoveryPoint:
        """Check that every machine has a recovery point for `requested` (None = latest)."""
        ...

    def launch(self, mode: Mode, requested: datetime | None, not_before: datetime) -> LaunchResult:
        """Start the launch, or adopt the job this execution already started after `not_before`."""
        ...

    def job_snapshot(self, job_id: str, seen: int) -> JobSnapshot:
        """The job's status and the log lines after the first `seen`."""
        ...

    def find_target(self, job_id: str, want_dns_name: bool) -> Target:
        """The recovered webserver's address (public IP, or public DNS name for a CNAME)."""
        ...
