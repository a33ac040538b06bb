"""ReportSuccess / ReportFailure: a summary a person can act on, published to SNS and returned."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from dr_autopilot.config import DnsConfig
from dr_autopilot.errors import DnsUpdateFailed
from dr_autopilot.logic.final_message import FinalMessenger
from dr_autopilot.logic.readiness import readiness_verdict
from dr_autopilot.models import (
    NOT_READY,
    FailoverSummary,
    LaunchResult,
    Mode,
    RecordRestore,
    RecordValue,
    WorkflowState,
)
from dr_autopilot.ports import DnsRecords, RecoveryProvider
from dr_autopilot.states import StateName


def timeline(state: WorkflowState) -> dict[str, datetime]:
    """When the pipeline saw each phase happen, on its own clock (a missing phase is absent).

    Provider timestamps are deliberately not mixed in: the provider's clock may be skewed (or,
    in the local drill, emulated and faster than real time)."""
    moments: dict[str, datetime | None] = {
        "started": state.request.started_at,
        "replicationChecked": state.replication.observed_at if state.replication else None,
        "launched": _first_launch(state),
        "convertersFinished": state.job.converters_observed_at if state.job else None,
        "jobCompleted": state.job.completed_observed_at if state.job else None,
        "targetHealthy": state.health.checked_at if state.health and state.health.healthy else None,
        "dnsInsync": state.dns.insync_at if state.dns else None,
        "cleanedUp": state.cleanup.finished_at if state.cleanup else None,
    }
    for record in state.launch.waves if state.launch else []:
        moments[f"wave {record.name} launched"] = record.requested_at
        done = record.completed_at
        if done is None and state.job is not None and state.job.job_id == record.job_id:
            done = state.job.completed_observed_at  # the wave whose job was polled last
        moments[f"wave {record.name} completed"] = done
    present = [(name, moment) for name, moment in moments.items() if moment is not None]
    return dict(sorted(present, key=lambda item: item[1]))  # in the order they happened


def _first_launch(state: WorkflowState) -> datetime | None:
    if state.launch is None:
        return None
    return state.launch.waves[0].requested_at if state.launch.waves else state.launch.requested_at


def _error_text(state: WorkflowState) -> tuple[str, str]:
    """(error name, human message) from what the Catch stored at $.error."""
    error = state.error
    if error is None:
        return "Unknown", "no error details"
    message = error.Cause or ""
    try:
        cause = json.loads(message)
        if isinstance(cause, dict):
            message = str(cause.get("errorMessage") or message)
    except (json.JSONDecodeError, TypeError):
        pass
    return error.Error, message[:2000]


def _record_name(state: WorkflowState, dns: DnsConfig) -> str | None:
    return dns.record_name if state.request.mode is Mode.RECOVERY else dns.drill_record_name


def failure_summary(
    state: WorkflowState,
    dns: DnsConfig,
    records: DnsRecords,
    provider: Callable[[], RecoveryProvider],
    outcome: Literal["FAILED", "TIMED_OUT", "ABORTED"] = "FAILED",
    in_flight: str | None = None,
) -> FailoverSummary:
    """What failed, and what was and was not changed. `in_flight`: the step that was still running
    when the execution ended (a timeout or abort cuts a step short; it may have done its work).
    A readiness run whose check failed is NOT_READY: a recovery now would fail the same way."""
    name, message = _error_text(state)
    if state.request.readiness and outcome == "FAILED":
        return readiness_summary(state, failure=(name, message))
    changed, unchanged = _launch_facts(state, provider, in_flight)
    if state.request.mode is Mode.DRILL and state.launch is not None and state.cleanup is None:
        if in_flight == StateName.CLEAN_UP_DRILL:
            changed.append(
                "CleanUpDrill was still running when the execution ended: it may yet terminate the drill's "
                "instances and put the drill record back. Look at both before acting."
            )
        else:
            changed.append(
                "The drill was NOT cleaned up: the instances its job(s) created run and cost money until removed. Terminate the "
                "instances of the job(s) above (DRS: aws drs terminate-recovery-instances --recovery-instance-ids "
                "...; CloudEndure: delete the test machines in the console) and put the drill record back."
            )
    record = _record_name(state, dns)
    if state.dns and not state.dns.skipped and state.dns.current:
        # Read back, not taken from the state: a drill's clean-up may have put it back since
        # (found by the red team: the message claimed the drill's value after a restore).
        changed.append(_switched_record_now(state.dns.current, state.dns.previous, records))
    elif record is None:
        unchanged.append("DNS was not touched (drill without a drill record).")
    elif _applied_before_failure(state, record, dns, records):
        assert state.target is not None
        changed.append(
            f"DNS {record} {dns.record_type} points at the recovered webserver {state.target.address}: "
            "the change was applied before the failure (the target had passed its health check)."
        )
    elif in_flight == StateName.UPDATE_DNS and state.target is not None:
        # The function may still be running and switch the record after this message.
        changed.append(
            f"UpdateDns was still running when the execution ended: DNS {record} {dns.record_type} may be switched "
            f"to the recovered webserver {state.target.address} (it had passed its health check). "
            "Look at the record before acting."
        )
    else:
        try:
            current = records.current(record, dns.record_type)
            still = ", ".join(current.values) if current else "(no record)"
        except DnsUpdateFailed:
            still = "(could not read it back)"
        unchanged.append(f"DNS {record} {dns.record_type} was not changed: it still points at {still}.")
    return FailoverSummary(
        outcome=outcome,
        headline=f"{state.request.mode.value} failover {outcome.replace('_', ' ')} ({name}): {message}",
        mode=state.request.mode,
        job_id=state.launch.job_id if state.launch else None,
        recovery_point=_point(state),
        timeline=timeline(state),
        error=name,
        changed=changed,
        unchanged=unchanged,
    )


def _launch_facts(
    state: WorkflowState, provider: Callable[[], RecoveryProvider], in_flight: str | None
) -> tuple[list[str], list[str]]:
    """(changed, unchanged) about the launch. "No launch was started" is said only when it is
    certain: LaunchRecovery never ran (it needs this run's replication check), or the provider
    lists no job of this execution. When the step left no result (its answer lost, the idempotency
    record not saved, the function dead), the provider is asked for the job this execution started."""
    launch = state.launch
    still_running = in_flight == StateName.LAUNCH_RECOVERY
    if launch is None and not still_running and (state.replication is None or state.request.dry_run):
        return [], ["No launch was started: no target machines were created."]
    if launch is None and state.replication is not None:
        try:
            launch = provider().launch_of_this_execution(
                state.request.mode, state.replication.checked_at, state.request.execution_id
            )
        except Exception as error:  # noqa: BLE001 - the report must go out whatever the provider does
            return [
                f"A launch job may have been started (the provider could not be asked: {type(error).__name__}). "
                "Look at the provider's jobs for this project before launching again."
            ], []
    if launch is not None and launch.waves:
        return _wave_facts(state, launch, provider, still_running)
    if launch is not None:
        return [
            f"Launch job {launch.job_id} ({launch.launch_type}) was started for {launch.machine_count} machine(s): "
            "target machines may be running in AWS and cost money until cleaned up."
        ], []
    if still_running:
        return [
            "LaunchRecovery was still running when the execution ended: a launch job may have been started. "
            "Look at the provider's jobs for this project before launching again."
        ], []
    return [], ["No launch was started: the provider lists no launch job of this execution."]


def _switched_record_now(ours: RecordValue, previous: RecordValue | None, records: DnsRecords) -> str:
    name, value = f"DNS {ours.name} {ours.type}", ", ".join(ours.values)
    try:
        now = records.current(ours.name, ours.type)
    except DnsUpdateFailed:
        return f"{name} was switched to {value} by this run (it could not be read back now)."
    if now is not None and sorted(now.values) == sorted(ours.values):
        return f"{name} now points at {value}."
    before = ", ".join(previous.values) if previous else "(no record)"
    shown = ", ".join(now.values) if now else "(no record)"
    put_back = " (put back as before this run)" if shown == before else ""
    return f"{name} was switched to {value} by this run; it now points at {shown}{put_back}."


def _wave_facts(
    state: WorkflowState, launch: LaunchResult, provider: Callable[[], RecoveryProvider], still_running: bool
) -> tuple[list[str], list[str]]:
    """(changed, unchanged) of a recovery plan: each wave launched, and the waves not launched,
    unless the provider lists a job of this execution the workflow did not record (a wave whose
    launch answer was lost) or the launch step was still running."""
    changed = [
        f"Wave {record.name!r}: launch job {record.job_id} ({record.launch_type}) was started for "
        f"{record.machine_count} machine(s); they may be running in AWS and cost money until cleaned up."
        for record in launch.waves
    ]
    left = launch.wave_count - len(launch.waves)
    if not left:
        return changed, []
    if still_running:
        changed.append(
            "LaunchRecovery was still running when the execution ended: the next wave may have been launched. "
            "Look at the provider's jobs before launching again."
        )
        return changed, []
    recorded = {job for record in launch.waves for job in record.job_id.split(",")}
    try:
        listed = provider().launch_of_this_execution(
            state.request.mode,
            state.replication.checked_at if state.replication else launch.launched_at,
            state.request.execution_id,
        )
    except Exception as error:  # noqa: BLE001 - the report must go out whatever the provider does
        changed.append(
            f"A later wave may have been launched (the provider could not be asked: {type(error).__name__}). "
            "Look at the provider's jobs before launching again."
        )
        return changed, []
    extra = [job for job in (listed.job_id.split(",") if listed else []) if job and job not in recorded]
    if extra:
        changed.append(
            f"Launch job(s) {', '.join(extra)} of this execution were started but not recorded by the workflow "
            "(a wave's launch whose answer was lost): their machines may be running and cost money."
        )
        return changed, [
            f"At most {left - 1} later wave(s) of the recovery plan were not launched."
        ] if left > 1 else []
    return changed, [f"{left} later wave(s) of the recovery plan were not launched."]


def _applied_before_failure(state: WorkflowState, record: str, dns: DnsConfig, records: DnsRecords) -> bool:
    """Did UpdateDns change the record and then fail (crash, timeout) before reporting it?"""
    if state.target is None or state.health is None or not state.health.healthy:
        return False
    try:
        current = records.current(record, dns.record_type)
    except DnsUpdateFailed:
        return False
    return current is not None and current.values == [state.target.address]


def _point(state: WorkflowState) -> str:
    return state.request.point_in_time.isoformat() if state.request.point_in_time else "latest"


def readiness_summary(state: WorkflowState, failure: tuple[str, str] | None = None) -> FailoverSummary:
    """A readiness run's one final message: READY, or NOT_READY naming why a recovery now would
    be refused (each machine not ready and its reason, such as its lag, or the check that failed)."""
    verdict = readiness_verdict(state, failure)
    replication = state.replication
    lag = f", largest lag {replication.max_lag_seconds:.0f} s" if replication and replication.max_lag_seconds else ""
    if verdict.ready:
        assert replication is not None  # a verdict is only "ready" after the replication check
        headline = (
            f"Readiness: READY. A recovery started now would pass every check before its launch "
            f"({replication.ready} of {replication.total} machines {replication.ready_means}{lag})."
        )
    else:
        machines = f" ({replication.ready} of {replication.total} machines ready{lag})" if replication else ""
        headline = (
            f"Readiness: NOT READY{machines}. A recovery started now would be refused: {'; '.join(verdict.reasons)}"
        )
    return FailoverSummary(
        outcome="READY" if verdict.ready else NOT_READY,
        headline=headline,
        mode=state.request.mode,
        recovery_point=_point(state),
        timeline=timeline(state),
        error=failure[0] if failure else None,
        unchanged=[
            "No launch was started.",
            "DNS was not changed.",
            "No lock was taken: a readiness run never blocks or delays a failover.",
        ],
        readiness=verdict,
    )


def success_summary(state: WorkflowState) -> FailoverSummary:
    if state.request.readiness:
        return readiness_summary(state)
    if state.request.dry_run:
        report = state.replication
        verdict = f"{report.ready} of {report.total} machines ready" if report else "replication not checked"
        return FailoverSummary(
            outcome="DRY_RUN",
            headline=f"Dry run: {verdict}; would launch {state.recovery_point.machine_count if state.recovery_point else '?'} machine(s) "
            f"in {state.request.mode.value} mode from recovery point {_point(state)}. Nothing was launched, DNS unchanged.",
            mode=state.request.mode,
            recovery_point=_point(state),
            timeline=timeline(state),
            unchanged=["No launch was started.", "DNS was not changed."],
        )
    dns, target = state.dns, state.target
    if dns and not dns.skipped and dns.current:
        before = ", ".join(dns.previous.values) if dns.previous else "(no record)"
        switch = f"{dns.current.name} switched {before} -> {', '.join(dns.current.values)} (TTL {dns.current.ttl}s)"
    else:
        switch = "DNS left unchanged (drill)"
    changed = [switch] if dns and not dns.skipped else []
    unchanged: list[str] = []
    headline = f"{state.request.mode.value} failover SUCCEEDED: {switch}"
    if state.request.mode is Mode.DRILL:
        done, left = _cleanup_facts(state)
        changed += done
        unchanged += left
        if state.cleanup is not None:
            headline += f"; cleaned up: {state.cleanup.instances_terminated} instance(s) terminated, drill record {state.cleanup.record.value}"
    return FailoverSummary(
        outcome="SUCCEEDED",
        headline=headline,
        mode=state.request.mode,
        job_id=state.launch.job_id if state.launch else None,
        recovery_point=_point(state),
        record_before=dns.previous if dns else None,
        record_after=dns.current if dns else None,
        recovered_address=target.address if target else None,
        timeline=timeline(state),
        changed=changed,
        unchanged=unchanged,
        cleanup=state.cleanup,
    )


def _cleanup_facts(state: WorkflowState) -> tuple[list[str], list[str]]:
    """(changed, unchanged) about a drill's clean-up."""
    cleanup = state.cleanup
    if cleanup is None:
        return [], [
            "The drill was not cleaned up (drill.cleanUp is false): its instances run, and cost money, until removed."
        ]
    listed = f": {', '.join(cleanup.instance_ids)}" if cleanup.instance_ids else ""
    more = (
        f" and {cleanup.instances_terminated - len(cleanup.instance_ids)} more"
        if cleanup.instances_terminated > len(cleanup.instance_ids)
        else ""
    )
    changed = [
        f"Drill cleaned up ({cleanup.requested_by}): {cleanup.instances_terminated} instance(s) of this drill terminated{listed}{more}."
    ]
    unchanged = [f"Left running, not this drill's: {item}." for item in cleanup.left_alone]
    if cleanup.record in (RecordRestore.RESTORED, RecordRestore.REMOVED):
        changed.append(f"Drill record: {cleanup.record_detail}.")
    elif cleanup.record in (RecordRestore.CHANGED_SINCE, RecordRestore.FAILED):
        unchanged.append(f"Drill record: {cleanup.record_detail}.")
    return changed, unchanged


def render(summary: FailoverSummary, state: WorkflowState) -> str:
    """The notification text: facts first, in the order on-call staff need them."""
    request = state.request
    lines = [
        summary.headline,
        "",
        f"Execution:      {request.execution_name}",
        f"Started by:     {request.requested_by} ({request.trigger}){f' - {request.reason}' if request.reason else ''}",
        f"Mode:           {request.mode.value}{' (readiness dry run)' if request.readiness else ' (dry run)' if request.dry_run else ''}",
        f"Recovery point: {summary.recovery_point}",
    ]
    if summary.job_id:
        lines.append(f"Launch job:     {summary.job_id}")
    if summary.readiness is not None and summary.readiness.reasons:
        lines += ["", "Why a recovery would be refused now:"] + [f"  - {item}" for item in summary.readiness.reasons]
    if summary.recovered_address:
        lines.append(f"Recovered site: {summary.recovered_address}")
    if summary.changed:
        lines += ["", "Changed:"] + [f"  - {item}" for item in summary.changed]
    if summary.unchanged:
        lines += ["", "Not changed:"] + [f"  - {item}" for item in summary.unchanged]
    if summary.timeline:
        start = summary.timeline["started"]
        lines += ["", "Timeline (UTC, +seconds since start):"]
        lines += [
            f"  {moment:%H:%M:%S}  +{(moment - start).total_seconds():7.1f}s  {name}"
            for name, moment in summary.timeline.items()
        ]
    return "\n".join(lines)


def publish(summary: FailoverSummary, state: WorkflowState, messenger: FinalMessenger) -> bool:
    """Send the summary as the execution's one final message; False if it was already sent."""
    subject = f"[DR Autopilot] {state.request.mode.value} {summary.outcome.replace('_', ' ').lower()}"
    return messenger.send(state.request.execution_id, subject, render(summary, state))
