"""LaunchRecovery: start the launch job (RECOVERY, or TEST for a drill) — at most once per execution,
or with a recovery plan at most once per wave, each wave only after the one before it passed."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from dr_autopilot.config import WaveConfig
from dr_autopilot.errors import MissingStepResult, RecoveryStarted
from dr_autopilot.logic.lock import ensure_still_held
from dr_autopilot.models import LaunchResult, Mode, ProviderJobStatus, WaveRecord, WorkflowState
from dr_autopilot.ports import FailoverLock, RecoveryProvider, Wave


def launch_recovery(
    state: WorkflowState, provider: RecoveryProvider, lock: FailoverLock, waves: list[WaveConfig] | None = None
) -> LaunchResult:
    if state.replication is None:
        raise MissingStepResult("refusing to launch: replication has not been checked in this execution")
    index, records = _next_wave(state, waves)
    ensure_still_held(state, lock, "launch")
    if index > 0 and state.request.mode is Mode.DRILL:
        _refuse_if_a_recovery_started(lock, waves, index)
    request = state.request
    wave = None
    if waves is not None:
        plan = waves[index]
        wave = Wave(index=index, name=plan.name, machines=plan.machines, tags=plan.tags)
    result = provider.launch(
        request.mode,
        request.point_in_time,
        not_before=state.replication.checked_at,
        execution_id=request.execution_id,
        checked_machines=state.replication.machines_digest,
        wave=wave,
    )
    requested_at = datetime.now(UTC)
    if waves is None or wave is None:
        return result.model_copy(update={"requested_at": requested_at})
    record = WaveRecord(
        index=index,
        name=wave.name,
        job_id=result.job_id,
        launch_type=result.launch_type,
        machine_count=result.machine_count,
        launched_at=result.launched_at,
        requested_at=requested_at,
        webserver_id=result.webserver_id,
    )
    return result.model_copy(
        update={
            "requested_at": requested_at,
            "wave_index": index,
            "wave_count": len(waves),
            "waves": [*records, record],
        }
    )


def _refuse_if_a_recovery_started(lock: FailoverLock, waves: list[WaveConfig] | None, index: int) -> None:
    """A drill's later wave launches TEST targets for machines a recovery may have launched since
    the drill started (CloudEndure replaces a machine's target): refused while a recovery holds its
    lock or its cool-down runs (found by the red team: a drill's later waves replaced a recovery's
    targets, and its clean-up then removed them)."""
    recovery = lock.peek(Mode.RECOVERY)
    if recovery is None or (recovery.expires_at or 0) <= int(time.time()):
        return
    name = waves[index].name if waves else str(index)
    holder = (recovery.holder or "a recovery").rsplit(":", 1)[-1]
    what = (
        "is running" if recovery.holder_state == "RUNNING" else "finished recently (production may run on its targets)"
    )
    raise RecoveryStarted(
        f"recovery {holder} {what}: this drill stops before wave {name!r}, whose launch would replace the "
        "recovery's targets; nothing more was launched"
    )


def _next_wave(state: WorkflowState, waves: list[WaveConfig] | None) -> tuple[int, list[WaveRecord]]:
    """The wave to launch now and the records of the waves before it (their completion noted).
    The next wave only after the one before it: its job completed and its check passed."""
    previous = state.launch
    if waves is None or previous is None:
        return 0, []
    job, check = state.job, state.wave_check
    done = previous.wave_index
    if job is None or job.job_id != previous.job_id or job.status is not ProviderJobStatus.COMPLETED:
        raise MissingStepResult(f"refusing to launch the next wave: wave {done + 1}'s job has not completed")
    if check is None or check.wave_index != done or not check.ready:
        raise MissingStepResult(f"refusing to launch the next wave: wave {done + 1}'s check has not passed")
    if done + 1 >= len(waves):
        raise MissingStepResult(f"refusing to launch: the plan has {len(waves)} wave(s), all launched")
    records = list(previous.waves)
    records[-1] = records[-1].model_copy(update={"completed_at": job.completed_observed_at})
    return done + 1, records
