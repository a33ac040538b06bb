"""Progress messages for on-call staff: short, factual, one per phase the pipeline passes.

A repeated message (a retried step) is harmless; every message names the execution.
"""

from __future__ import annotations

from dr_autopilot.errors import NotificationFailed
from dr_autopilot.models import (
    DnsResult,
    FailoverRequest,
    HealthResult,
    JobProgress,
    LaunchResult,
    LockResult,
    ReplicationReport,
    WaveCheck,
)
from dr_autopilot.observability import logger
from dr_autopilot.ports import Publisher

Message = tuple[str, str]


def notify(publisher: Publisher, message: Message) -> None:
    """Progress messages are best effort: losing one must not stop a failover half-way."""
    subject, body = message
    try:
        publisher.publish(subject, body)
    except NotificationFailed as error:
        logger.warning("Progress notification not sent", extra={"subject": subject, "error": str(error)})


def _subject(request: FailoverRequest, what: str) -> str:
    return f"[DR Autopilot] {request.mode.value}: {what}"


def _footer(request: FailoverRequest) -> str:
    return f"\n\nExecution: {request.execution_name}\nStarted by: {request.requested_by} ({request.trigger})"


def started(request: FailoverRequest, lock: LockResult) -> Message:
    point = request.point_in_time.isoformat() if request.point_in_time else "latest"
    source = f"alarm {request.alarm_name}" if request.alarm_name else f"{request.requested_by} from the console"
    gate = " It waits for approval before anything is launched." if lock.approval_required else ""
    body = (
        f"A {request.mode.value} failover was started by {source}."
        f"{' Dry run: checks and plan only.' if request.dry_run else ''}{gate}\n"
        f"Recovery point: {point}\nReason: {request.reason or '(none given)'}"
    )
    return _subject(request, "failover started"), body + _footer(request)


def approval_requested(request: FailoverRequest, token: str, timeout_seconds: int, on_timeout: str) -> Message:
    body = (
        f"Alarm {request.alarm_name} started a {request.mode.value} failover. Nothing has been launched yet.\n"
        f"Approve within {timeout_seconds // 60} minutes, or it will {'go ahead' if on_timeout == 'proceed' else 'be aborted'}:\n\n"
        f"  dr-autopilot approve --token '{token}'\n  dr-autopilot reject --token '{token}' --reason '...'\n\n"
        "or with the AWS CLI:\n"
        f"  aws stepfunctions send-task-success --task-token '{token}' --task-output '{{\"approvedBy\": \"<you>\"}}'\n"
        f"  aws stepfunctions send-task-failure --task-token '{token}' --error ApprovalRejected --cause '<why>'"
    )
    return _subject(request, "approval needed"), body + _footer(request)


def replication_verdict(request: FailoverRequest, report: ReplicationReport) -> Message:
    lag = f"{report.max_lag_seconds:.0f} s" if report.max_lag_seconds is not None else "unknown"
    if report.forced:
        names = ", ".join(p.name for p in report.problems)
        verdict = f"{report.not_ready} of {report.total} machines are NOT ready ({names}); going ahead because force was given."
    else:
        verdict = f"All {report.total} machines are {report.ready_means}."
    return _subject(request, "replication checked"), f"{verdict}\nLargest lag (RPO now): {lag}" + _footer(request)


def launch_started(request: FailoverRequest, launch: LaunchResult) -> Message:
    body = f"Launch job {launch.job_id} ({launch.launch_type}) started for {launch.machine_count} machine(s)."
    return _subject(request, "launch started"), body + _footer(request)


def converters_finished(request: FailoverRequest, job: JobProgress, launch: LaunchResult) -> Message:
    body = f"Launch job {launch.job_id}: converters finished after {job.elapsed_seconds:.0f} s; target machines are being built and booted."
    return _subject(request, "converters finished"), body + _footer(request)


def wave_ready(request: FailoverRequest, check: WaveCheck) -> Message:
    then = (
        "It was the last wave: the webserver's check and the DNS switch come next."
        if check.last_wave
        else f"The next wave launches{f' in {check.pause_seconds} s' if check.pause_seconds else ' now'}."
    )
    body = f"Wave {check.wave!r} ({check.wave_index + 1}) is up: {check.detail}. {then}"
    return _subject(request, f"wave {check.wave} up"), body + _footer(request)


def target_healthy(request: FailoverRequest, health: HealthResult) -> Message:
    body = f"The recovered webserver answers: {health.url} -> {health.detail} (attempt {health.attempts})."
    return _subject(request, "recovered site healthy"), body + _footer(request)


def dns_switched(request: FailoverRequest, dns: DnsResult) -> Message:
    if dns.skipped or dns.current is None:
        return _subject(request, "DNS left unchanged"), dns.detail + _footer(request)
    before = ", ".join(dns.previous.values) if dns.previous else "(no record)"
    body = f"{dns.current.name} {dns.current.type} switched {before} -> {', '.join(dns.current.values)} (TTL {dns.current.ttl} s), change INSYNC."
    return _subject(request, "DNS switched"), body + _footer(request)


def drill_held(request: FailoverRequest, dns: DnsResult | None, token: str, hold_minutes: int) -> Message:
    where = (
        f"{dns.current.name} points at the drill site ({', '.join(dns.current.values)})"
        if dns is not None and dns.current is not None and not dns.skipped
        else "no drill record was switched"
    )
    body = (
        f"The drill site is up and healthy; {where}. It is held for {hold_minutes} minutes for you to look at, "
        "then cleaned up: the drill's instances are terminated and the drill record is put back.\n"
        "To clean up now:\n\n"
        f"  dr-autopilot drill-cleanup {request.execution_id}\n\n"
        "or with the AWS CLI:\n"
        f"  aws stepfunctions send-task-success --task-token '{token}' --task-output '{{\"endedBy\": \"<you>\"}}'"
    )
    return _subject(request, f"drill held for {hold_minutes} min"), body + _footer(request)


def lock_not_released(request: FailoverRequest, error: str) -> Message:
    body = (
        f"The outcome of this failover was sent separately. Clean-up failed: the failover lock could not be "
        f"released ({error[:300]}). Alarm-started failovers are held back, and console starts refused as "
        "'already running', until the lock expires (at most workflowTimeoutSeconds after this run started)."
    )
    return _subject(request, "clean-up failed (lock not released)"), body + _footer(request)


def deduplicated(request: FailoverRequest, lock: LockResult) -> Message:
    body = f"Not started: {lock.detail} This alarm was recorded as a duplicate (suppressed so far: {lock.suppressed})."
    return _subject(request, "duplicate alarm suppressed"), body + _footer(request)


def refused(request: FailoverRequest, lock: LockResult) -> Message:
    """The final message of a console start refused because another run holds the lock."""
    body = f"Not started: {lock.detail}\n\nNothing was launched and DNS was not changed by this request."
    return f"[DR Autopilot] {request.mode.value} refused", body + _footer(request)
