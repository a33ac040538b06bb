"""AcquireLock, and its release at the end: one failover per outage, one drill at a time.

Recoveries and drills hold separate locks: a drill never blocks, delays or de-duplicates a
recovery, and never starts the recovery cool-down. Dry runs take no lock; alarm-started
recoveries respect the cool-down after the last recovery.

A lock still marked RUNNING whose holder no longer runs (its end event was lost, or ReportEnd
could not release it) is released on the spot, as that end would have released it, and taken:
on-call never waits for a dead run. Step Functions says whether the holder runs."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import DrAutopilotError, LockLost
from dr_autopilot.logic import progress
from dr_autopilot.models import LockResult, Mode, WorkflowState
from dr_autopilot.ports import ExecutionStatus, FailoverLock, LockState, Publisher

# The statuses of an execution that has ended for good. Anything else keeps its lock: RUNNING,
# PENDING_REDRIVE (about to run again) and an execution Step Functions does not know (yet: its
# reads are eventually consistent); `dr-autopilot unlock` is for what no run will ever release.
ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def acquire_lock(
    state: WorkflowState, config: FailoverConfig, lock: FailoverLock, executions: ExecutionStatus
) -> LockResult:
    request = state.request
    trigger = config.trigger
    approval_required = request.trigger == "alarm" and trigger is not None and trigger.approval == "approve"
    if request.dry_run:
        return LockResult(acquired=True, detail="dry run: no lock needed")
    if request.mode is Mode.DRILL:
        recovery = _recovery_in_the_way(lock, config, executions)
        if recovery is not None:
            return recovery

    def attempt() -> LockState:
        return lock.acquire(
            request.mode,
            request.execution_id,
            request.trigger,
            hold_seconds=config.workflow_timeout_seconds,
            honour_cooldown=request.trigger == "alarm" and request.mode is Mode.RECOVERY,
        )

    taken = attempt()
    if not taken.acquired and _release_if_holder_ended(request.mode, taken, config, lock, executions):
        taken = attempt()
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


def _release_if_holder_ended(
    scope: Mode, held: LockState, config: FailoverConfig, lock: FailoverLock, executions: ExecutionStatus
) -> bool:
    """Release a lock marked RUNNING whose holder has ended, with the cool-down its own end would
    have started (so alarms still respect it). True if it was released."""
    if held.holder_state != "RUNNING" or not held.holder:
        return False
    if executions.status(held.holder) not in ENDED:
        return False
    cooldown = config.trigger.cooldown_seconds if config.trigger and scope is Mode.RECOVERY else 0
    return lock.release(scope, held.holder, cooldown)


def _recovery_in_the_way(lock: FailoverLock, config: FailoverConfig, executions: ExecutionStatus) -> LockResult | None:
    """A drill launches TEST targets for the same machines, and a launch replaces the targets an
    earlier launch created: during a recovery, or while production may run on its targets (its
    cool-down), a drill is refused. (A recovery never waits for a drill.)"""
    recovery = lock.peek(Mode.RECOVERY)
    if recovery is None or (recovery.expires_at or 0) <= int(time.time()):
        return None
    if _release_if_holder_ended(Mode.RECOVERY, recovery, config, lock, executions):
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


def ensure_still_held(state: WorkflowState, lock: FailoverLock, what: str) -> None:
    """Before a side effect (a launch, a DNS change): this execution still holds its lock. A run
    redriven after its lock was released or taken over, or a step still running after its
    execution ended, must not act beside the run that holds it now. Dry runs hold no lock and
    make no side effect."""
    request = state.request
    if request.dry_run or lock.holds(request.mode, request.execution_id):
        return
    holder = lock.peek(request.mode)
    now_held_by = holder.holder.rsplit(":", 1)[-1] if holder and holder.holder else "nobody"
    raise LockLost(
        f"refusing to {what}: this execution no longer holds the {request.mode.value} lock (held by {now_held_by}). "
        "Start a new execution instead of redriving this one."
    )


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
