"""CheckWave: after a wave's job completed, does its service answer? Then the next wave, after
its pause; the workflow waits and checks again, within the wave's check timeout."""

from __future__ import annotations

from datetime import UTC, datetime

from dr_autopilot.config import FailoverConfig, WaveConfig
from dr_autopilot.errors import MissingStepResult, TargetNotFound, WaveCheckFailed
from dr_autopilot.models import LaunchResult, Target, WaveCheck, WorkflowState
from dr_autopilot.ports import Reachability, RecoveryProvider


def check_wave(
    state: WorkflowState, config: FailoverConfig, provider: RecoveryProvider, reach: Reachability
) -> WaveCheck:
    launch, waves = state.launch, config.waves
    if launch is None or waves is None or not launch.waves:
        raise MissingStepResult("CheckWave: no wave of a recovery plan was launched in this execution")
    index = launch.wave_index
    wave = waves[index]
    last = index == len(waves) - 1
    now = datetime.now(UTC)
    if wave.check is None:
        return WaveCheck(
            wave_index=index,
            wave=wave.name,
            ready=True,
            detail="no check configured",
            checked_at=now,
            last_wave=last,
            pause_seconds=0 if last else wave.pause_seconds,
        )
    check = wave.check
    previous = state.wave_check if state.wave_check and state.wave_check.wave_index == index else None
    attempts = (previous.attempts if previous else 0) + 1
    first = previous.first_checked_at if previous and previous.first_checked_at else now
    # The machine's address is looked up (with its provenance) once per wave, not on every
    # attempt: at 3,000 DRS source servers a lookup lists them all.
    address = (
        previous.address
        if previous and previous.address
        else _address_of(check.machine, launch, waves, provider).address
    )
    port = check.port or config.health_check.port
    timeout = min(float(check.interval_seconds), 10.0)
    if check.protocol == "tcp":
        result = reach.tcp(address, port, timeout)
    else:
        result = reach.http(f"http://{_host(address)}:{port}{check.path}", check.expected_status, timeout)
    waited = (now - first).total_seconds()
    if not result.healthy and waited >= check.timeout_seconds:
        done = ", ".join(f"{r.name} (job {r.job_id})" for r in launch.waves)
        after = [w.name for w in waves[index + 1 :]]
        raise WaveCheckFailed(
            f"wave {wave.name!r}: {check.machine} did not pass its check in {check.timeout_seconds} s "
            f"({attempts} attempts; last: {result.detail}). Launched: {done}. Not launched: "
            f"{', '.join(after) or 'no wave left'}. DNS was not changed."
        )
    return WaveCheck(
        wave_index=index,
        wave=wave.name,
        ready=result.healthy,
        detail=f"{check.machine}: {result.detail}",
        attempts=attempts,
        first_checked_at=first,
        checked_at=now,
        wait_seconds=0 if result.healthy else check.interval_seconds,
        address=address,
        last_wave=last,
        pause_seconds=0 if last else wave.pause_seconds,
    )


def _address_of(machine: str, launch: LaunchResult, waves: list[WaveConfig], provider: RecoveryProvider) -> Target:
    """The machine's own address, from the launch of the wave that recovered it: the wave that
    names it, or (waves by tags) this wave, else the latest earlier wave whose job holds it."""
    named = [record for record in launch.waves if machine in (waves[record.index].machines or [])]
    candidates = named or list(reversed(launch.waves))
    for record in candidates[:-1]:
        try:
            return provider.find_target(launch.of_wave(record), want_dns_name=False, machine=machine)
        except TargetNotFound:
            continue  # not launched by that wave: an earlier one
    return provider.find_target(launch.of_wave(candidates[-1]), want_dns_name=False, machine=machine)


def _host(address: str) -> str:
    return f"[{address}]" if ":" in address else address
