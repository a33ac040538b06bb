"""Jobs: launches accepted or refused, their progress on the emulated clock, and cleanups.

A job is evaluated lazily: its status and log follow from the time elapsed since it was
created, and the replicas of a completed launch are created the first time anyone looks after
it completed (`Jobs.settled`).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from local.cloudendure.clock import Clock, iso
from local.cloudendure.errors import ApiError
from local.cloudendure.project import Project
from local.cloudendure.records import CLEANUP, LAUNCH_TYPES, Job
from local.cloudendure.replicas import Replicas
from local.cloudendure.scenario import JobOutcome, JobSpec, MachineSpec, PastJobSpec

# The machine's lifeCycle date that each kind of launch sets.
LIFECYCLE_FIELD = {
    "RECOVERY": "lastRecoveryLaunchDateTime",
    "TEST": "lastTestLaunchDateTime",
    "CUTOVER": "lastCutoverDateTime",
    "DEBUG": "lastTestLaunchDateTime",
}
# Above this many machines the log summarises instead of naming each one, as the console does.
PER_MACHINE_LOG_LIMIT = 50


@dataclass(frozen=True)
class LaunchPlan:
    """What a launch job will log and when (emulated seconds after creation), and how it ends."""

    log: list[tuple[float, str]]
    end_offset: float | None  # None = never ends (stuck)
    final_status: str


def plan_launch(spec: JobSpec, launch_type: str, machines: list[MachineSpec]) -> LaunchPlan:
    """The scenario's job shape applied to these machines: snapshots, converters, targets, outcome."""
    names = [machine.name for machine in machines]
    converters = spec.converters_finished_at_seconds
    duration = spec.duration_seconds
    log: list[tuple[float, str]] = [
        (0.0, f"{LAUNCH_TYPES[launch_type]} job started for {len(names)} machine(s)"),
        (1.0, "Cleaning up resources created by previous launches"),
    ]
    if len(names) <= PER_MACHINE_LOG_LIMIT:
        log += [(spec.pending_seconds, f"Taking snapshot of replicated volumes of machine {name}") for name in names]
    else:
        log.append((spec.pending_seconds, f"Taking snapshots of replicated volumes of {len(names)} machines"))
    log += [
        (converters * 0.25, "Finished taking snapshots"),
        (converters * 0.4, "Starting converters"),
    ]
    if spec.outcome is JobOutcome.STUCK:
        log.sort(key=lambda entry: entry[0])
        return LaunchPlan(log, None, "COMPLETED")
    log.append((converters, "Finished starting converters"))
    log += [
        (converters + (duration - converters) * (i + 1) / (len(names) + 2), f"Launching target machine {name}")
        for i, name in enumerate(names[:PER_MACHINE_LOG_LIMIT])
    ]
    log += [
        (duration, f"Failed to launch target machine {machine.name}: instance did not pass status checks")
        for machine in machines
        if machine.launch_fails
    ]
    if spec.outcome is JobOutcome.FAILED:
        # A failed job stops logging at the failure: nothing planned for its end survives.
        log = [(t, message) for t, message in log if t < duration]
        log += [(duration, spec.failure_message), (duration, "Job failed")]
        final_status = "FAILED"
    else:
        log += [(duration, f"Finished launching {len(names)} target machine(s)"), (duration, "Job finished")]
        final_status = "COMPLETED"
    log.sort(key=lambda entry: entry[0])
    return LaunchPlan(log, duration, final_status)


class Jobs(Mapping[str, Job]):
    """The project's jobs by id, and what starts, fails or finishes one.

    Its lock also guards the replicas and the machines' launch records, which jobs change.
    """

    def __init__(
        self, spec: JobSpec, project: Project, replicas: Replicas, clock: Clock, *, license_expired: bool
    ) -> None:
        self.spec = spec
        self.project = project
        self.replicas = replicas
        self.clock = clock
        self.license_expired = license_expired
        self.lock = threading.RLock()
        self.launches_accepted = 0
        self._jobs: dict[str, Job] = {}

    def __getitem__(self, job_id: str) -> Job:
        return self._jobs[job_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._jobs)

    def __len__(self) -> int:
        return len(self._jobs)

    @contextmanager
    def settled(self) -> Iterator[None]:
        """Hold the lock, with every launch that has completed since the last look given its replicas."""
        with self.lock:
            self._advance()
            yield

    def find(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"Job {job_id} not found", "NOT_FOUND")
        return job

    def page(self, offset: int, limit: int) -> list[Job]:
        """Oldest first, as the API lists them."""
        return sorted(self._jobs.values(), key=lambda job: job.created_at)[offset : offset + limit]

    def launch(self, launch_type: str, chosen: dict[str, str | None], initiated_by: str) -> Job:
        """Start a launch of the chosen machines (id -> point in time id, None for the latest)."""
        with self.settled():
            if self.license_expired:
                raise ApiError(402, "The project's license has expired", "LICENSE_EXPIRED")
            now = self.clock.now()
            busy = [job for job in self._jobs.values() if job.is_running(now) and set(job.machine_ids) & chosen.keys()]
            if busy:
                raise ApiError(409, f"Job {busy[0].id} is already running for some of these machines", "CONFLICT")
            plan = plan_launch(self.spec, launch_type, [self.project.machines[mid].spec for mid in chosen])
            job = Job(
                id=str(uuid.uuid4()),
                launch_type=launch_type,
                machine_ids=list(chosen),
                point_in_time_ids=chosen,
                created_at=now,
                log_plan=plan.log,
                end_offset=plan.end_offset,
                final_status=plan.final_status,
                pending_seconds=self.spec.pending_seconds,
                initiated_by=initiated_by,
            )
            self._jobs[job.id] = job
            self.launches_accepted += 1
            for machine_id in chosen:
                self.project.machines[machine_id].life_cycle[LIFECYCLE_FIELD[launch_type]] = iso(job.created_at)
            return job

    def fail_running(self) -> int:
        """Fail every running job now, as an operator stopping it would; returns how many."""
        with self.settled():
            now = self.clock.now()
            running = [job for job in self._jobs.values() if job.is_running(now)]
            for job in running:
                job.failed_at = now
                job.finalized = True  # a stopped launch leaves no replicas
            return len(running)

    def record_history(self, past: list[PastJobSpec]) -> None:
        """The jobs the project ran before the scenario starts, over all its machines, finished."""
        with self.lock:
            for spec in past:
                job = Job(
                    id=str(uuid.uuid4()),
                    launch_type=spec.type,
                    machine_ids=list(self.project.machines),
                    point_in_time_ids={},
                    created_at=self.clock.now() - timedelta(days=spec.days_ago),
                    log_plan=[(0.0, f"{spec.type} job started"), (60.0, "Job finished")],
                    end_offset=60.0,
                    final_status=spec.status,
                    pending_seconds=0.0,
                    initiated_by="someone@example.com",
                    finalized=True,
                )
                self._jobs[job.id] = job

    def clean_up(self, replica_ids: list[str], initiated_by: str) -> Job:
        """Remove the replicas at once and record the CLEANUP job that did it, already complete."""
        with self.lock:
            machine_ids = self.replicas.remove_all(replica_ids)
            job = Job(
                id=str(uuid.uuid4()),
                launch_type=CLEANUP,
                machine_ids=machine_ids,
                point_in_time_ids={},
                created_at=self.clock.now(),
                log_plan=[(0.0, f"Cleaned up {len(replica_ids)} target machine(s)")],
                end_offset=0.0,
                final_status="COMPLETED",
                pending_seconds=0.0,
                initiated_by=initiated_by,
                finalized=True,
            )
            self._jobs[job.id] = job
            return job

    def _advance(self) -> None:
        """Create the replicas of every launch that has completed since the last look."""
        now = self.clock.now()
        for job in self._jobs.values():
            if job.finalized or job.status(now) != "COMPLETED":
                continue
            job.finalized = True
            for machine_id in job.machine_ids:
                machine = self.project.machines[machine_id]
                if not machine.spec.launch_fails:
                    self.replicas.create(machine, job)
