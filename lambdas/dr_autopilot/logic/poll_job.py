"""PollJob: one look at the launch job; the workflow's Wait state sleeps between looks."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from dr_autopilot.config import JobConfig
from dr_autopilot.errors import JobFailed, JobTimedOut, MissingStepResult
from dr_autopilot.models import JobProgress, ProviderJobStatus, WorkflowState
from dr_autopilot.ports import RecoveryProvider


def next_wait(previous_wait: int, job_moved: bool, config: JobConfig) -> int:
    """Adaptive polling: short while the job's log moves, doubling while it is quiet, capped."""
    if job_moved or previous_wait <= 0:
        return config.poll_min_seconds
    return min(config.poll_max_seconds, max(config.poll_min_seconds, previous_wait * 2))


def max_polls(config: JobConfig) -> int:
    """A bound on polls that holds even if the provider's clock stood still."""
    return math.ceil(config.timeout_seconds / config.poll_min_seconds) + 10


def poll_job(state: WorkflowState, provider: RecoveryProvider, config: JobConfig) -> JobProgress:
    if state.launch is None:
        raise MissingStepResult("PollJob: no launch job to poll in this execution's state")
    previous = state.job
    if previous is not None and previous.job_id not in (None, state.launch.job_id):
        previous = None  # a recovery plan's next wave: a new job, looked at from its start
    seen = previous.log_lines if previous else 0
    snapshot = provider.job_snapshot(state.launch.job_id, seen)
    polls = (previous.polls if previous else 0) + 1
    elapsed = (snapshot.provider_now - snapshot.created_at).total_seconds()
    tail = " | ".join(snapshot.new_lines[-3:])
    if snapshot.status is ProviderJobStatus.FAILED:
        raise JobFailed(
            f"launch job {state.launch.job_id} FAILED after {elapsed:.0f}s. Last log lines: {tail or '(none new)'}"
        )
    if snapshot.status is ProviderJobStatus.RUNNING and (elapsed > config.timeout_seconds or polls > max_polls(config)):
        raise JobTimedOut(
            f"launch job {state.launch.job_id} still running after {elapsed:.0f}s ({polls} polls); "
            f"the job timeout is {config.timeout_seconds}s. Last log lines: {tail or '(none new)'}"
        )
    now = datetime.now(UTC)
    converters_seen = previous.converters_observed_at if previous else None
    return JobProgress(
        job_id=state.launch.job_id,
        status=snapshot.status,
        converters_observed_at=converters_seen or (now if snapshot.converters_finished_at else None),
        completed_observed_at=now if snapshot.status is ProviderJobStatus.COMPLETED else None,
        log_lines=snapshot.log_total,
        new_log_lines=snapshot.new_lines,
        converters_finished=snapshot.converters_finished_at is not None,
        polls=polls,
        wait_seconds=next_wait(previous.wait_seconds if previous else 0, bool(snapshot.new_lines), config),
        elapsed_seconds=round(elapsed, 1),
    )
