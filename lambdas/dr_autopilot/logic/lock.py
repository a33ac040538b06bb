"""AcquireLock, and its release at the end: one failover per outage, one drill at a time.

Recoveries and drills hold separate locks: a drill never blocks, delays or de-duplicates a
recovery, and never starts the recovery cool-down. Dry runs take no lock; alarm-started
recoveries respect the cool-down after the last recovery."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import DrAutopilotError
from dr_autopilot.logic import progress
from dr_autopilot.models import LockResult, Mode, WorkflowState
from dr_autopilot.ports import FailoverLock, Publisher


def acquire_lock(state: WorkflowState, config: FailoverConfig, lock: FailoverLock) -> LockResult:
    request = state.request
    trigger = config.trigger
    approval_required = request.trigger == "alarm" and trigger is not None and trigger.approval == "approve"
    if request.dry_run:
        return LockResult(acquired=True, detail="dry run: no lock needed")
    if request.mode is Mode.DRILL:
        recovery = _recovery_in_the_way(lock)
        if recovery is not None:
            return recovery
    taken = lock.acquire(
        request.mode,
        request.execution_id,
        request.trigger,
        hold_seconds=config.workflow_timeout_seconds,
        honour_cooldown=request.trigger == "alarm" and request.mode is Mode.RECOVERY,
    )
    if taken.acquired:
        return LockResult(
            acquired=True, holder=request.execution_id, approval_required=approval_required, detail="lock taken"
        )
    holder = (taken.holder or "another execution").rsplit(":", 1)[-1]
    if taken.holder_state == "RUNNING":
        what = "drill" if request.mode is Mode.DRILL else "failover"
        detail = (
            f"{what} {holder} is already running. Wait for it to end, or stop it in the Step Functions console "
            "(its end releases the lock)."
        )
    else:
        until = datetime.fromtimestamp(taken.expires_at or 0, UTC).isoformat(timespec="seconds")
        detail = f"failover {holder} finished recently; alarms are ignored until the cool-down ends at {until}."
    return LockResult(acquired=False, holder=taken.holder, suppressed=taken.suppressed, detail=detail)


def _recovery_in_the_way(lock: FailoverLock) -> LockResult | None:
    """A drill launches TEST targets for the same machines, and a launch replaces the targets an
    earlier launch created: during a recovery, or while production may run on its targets (its
    cool-down), a drill is refused. (A recovery never waits for a drill.)"""
    recovery = lock.peek(Mode.RECOVERY)
    if recovery is None or (recovery.expires_at or 0) <= int(time.time()):
        return None
    holder = (recovery.holder or "a recovery").rsplit(":", 1)[-1]
    if recovery.holder_state == "RUNNING":
        detail = (
            f"recovery {holder} is running; a drill would replace the targets it is launching. Drill after it ends."
        )
    else:
        until = datetime.fromtimestamp(recovery.expires_at or 0, UTC).isoformat(timespec="seconds")
        detail = (
            f"recovery {holder} finished recently and production may run on its targets; a drill would replace them. "
            f"Drills are refused until {until} (and should wait until after failback)."
        )
    return LockResult(acquired=False, holder=recovery.holder, detail=detail)


def release_lock(state: WorkflowState, config: FailoverConfig, lock: FailoverLock) -> None:
    """End this run's hold on the lock (if it has one); the alarm cool-down starts now."""
    if state.lock and state.lock.acquired and state.lock.holder:
        recovery = state.request.mode is Mode.RECOVERY
        cooldown = config.trigger.cooldown_seconds if config.trigger and recovery else 0
        lock.release(state.request.mode, state.request.execution_id, cooldown)


def clean_up_after_report(
    state: WorkflowState, config: FailoverConfig, lock: FailoverLock, publisher: Publisher
) -> bool:
    """Release the lock once the final message is out. Best effort: a failure here is reported
    in a message of its own, never swapped for the failover's outcome. False if it failed."""
    try:
        release_lock(state, config, lock)
    except DrAutopilotError as error:
        progress.notify(publisher, progress.lock_not_released(state.request, str(error)))
        return False
    return True
