"""CleanUpDrill: the end of a drill. The drill's instances are terminated and waited for (what
costs money goes first, found by the red team: a Route 53 failure had left every instance
running), then the drill record goes back to what it was before the drill.

Only what this drill made is touched: the record only while it still holds the value this
drill set, the instances only if this drill's job(s) launched them (the provider checks). Asking
again (a retried step) changes nothing twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from dr_autopilot.errors import CleanupPending, DnsRecordChanged, DnsThrottled, DnsUpdateFailed, MissingStepResult
from dr_autopilot.models import MAX_LISTED, CleanupResult, Mode, RecordRestore, RecordValue, WorkflowState
from dr_autopilot.ports import DnsRecords, DrillCleanup, RecoveryProvider

WAIT_SECONDS = 240  # for the instances to be gone, within the function's 300 s; then CleanupPending
LOOK_EVERY_SECONDS = 2
RESTORE_RETRY_SECONDS = (2, 4, 8)


def clean_up_drill(
    state: WorkflowState,
    provider: RecoveryProvider,
    records: DnsRecords,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> CleanupResult:
    request, launch = state.request, state.launch
    # Defence in depth: the workflow comes here only after a drill's DNS step, but nothing else
    # may ever be cleaned up (a recovery's instances are the site).
    if request.mode is not Mode.DRILL or request.dry_run:
        raise MissingStepResult(f"refusing to clean up a {request.mode.value} run: only drills are cleaned up")
    if launch is None:
        raise MissingStepResult("refusing to clean up: this drill has no launch result")
    deadline = clock() + WAIT_SECONDS
    jobs: list[str] = []
    while True:
        # every wave of a recovery plan (or the one launch), each only what its own job(s) made
        passes = [provider.clean_up_drill(wave) for wave in launch.every_wave()]
        done = DrillCleanup(
            terminated=[item for one in passes for item in one.terminated],
            pending=[item for one in passes for item in one.pending],
            left_alone=[item for one in passes for item in one.left_alone],
            jobs=[job for one in passes for job in one.jobs],
        )
        jobs += [job for job in done.jobs if job not in jobs]
        if not done.pending:
            break
        if clock() >= deadline:
            raise CleanupPending(
                f"{len(done.pending)} of this drill's instances are still terminating after {WAIT_SECONDS} s "
                f"(jobs {', '.join(jobs[:5]) or 'unknown'}): {', '.join(done.pending[:5])}"
            )
        sleep(LOOK_EVERY_SECONDS)
    record, record_detail = _restore_record(state, records, sleep)
    ended_by = (state.hold or {}).get("endedBy")
    return CleanupResult(
        requested_by=str(ended_by or "the workflow (no hold)")[:300],
        instances_terminated=len(done.terminated),
        instance_ids=[text[:300] for text in done.terminated[:MAX_LISTED]],
        left_alone=[text[:300] for text in done.left_alone[:MAX_LISTED]],
        cleanup_jobs=jobs[:MAX_LISTED],
        record=record,
        record_detail=record_detail[:300],
        finished_at=datetime.now(UTC),
    )


def _same(one: RecordValue | None, other: RecordValue | None) -> bool:
    if one is None or other is None:
        return one is other
    return sorted(one.values) == sorted(other.values) and one.ttl == other.ttl


def _restore_record(
    state: WorkflowState, records: DnsRecords, sleep: Callable[[float], None] = time.sleep
) -> tuple[RecordRestore, str]:
    """Put the drill record back (below); Route 53 throttling is waited out 3 times (2, 4, 8 s),
    then reported like any refusal: the instances are already terminated by then."""
    for pause in RESTORE_RETRY_SECONDS:
        try:
            return _restore_record_once(state, records)
        except DnsThrottled:
            sleep(pause)
    try:
        return _restore_record_once(state, records)
    except DnsThrottled as error:
        return RecordRestore.FAILED, f"the drill record could not be put back (Route 53 kept throttling): {error}"


def _restore_record_once(state: WorkflowState, records: DnsRecords) -> tuple[RecordRestore, str]:
    """Put the drill record back as it was before UpdateDns changed it, if it still holds the
    drill's value; otherwise leave it and say why."""
    dns = state.dns
    if dns is None or dns.skipped or dns.current is None:
        return RecordRestore.NOT_SWITCHED, "the drill switched no record"
    ours, previous = dns.current, dns.previous
    name = f"{ours.name} {ours.type}"
    before = ", ".join(previous.values) if previous else None
    try:
        current = records.current(ours.name, ours.type)
    except DnsUpdateFailed as error:
        return RecordRestore.FAILED, f"{name} could not be read, so it was left as the drill set it: {error}"
    if previous is None and current is None:
        return RecordRestore.REMOVED, f"{name} is removed (it did not exist before the drill)"
    if previous is not None and _same(current, previous):
        return RecordRestore.RESTORED, f"{name} points at {before} again, as before the drill"
    if current is None or sorted(current.values) != sorted(ours.values):
        now = ", ".join(current.values) if current else "(no record)"
        return (
            RecordRestore.CHANGED_SINCE,
            f"{name} was changed after the drill set it (now {now}): left as it is",
        )
    try:
        # `current` is the drill's value as Route 53 holds it (its TTL too): exactly what DELETE needs.
        records.restore(current, previous, comment=f"DR Autopilot drill clean-up {state.request.execution_name}")
    except DnsRecordChanged:
        return RecordRestore.CHANGED_SINCE, f"{name} changed while it was being restored: left as it is"
    except DnsUpdateFailed as error:  # Route 53 refused: said so; a throttle (DnsThrottled) is retried
        return RecordRestore.FAILED, f"{name} could not be put back; it still points at the drill site: {error}"
    if previous is None:
        return RecordRestore.REMOVED, f"{name} removed (it did not exist before the drill)"
    return RecordRestore.RESTORED, f"{name} points at {before} again, as before the drill"
