"""CloudEndure as a recovery provider: the workflow's questions answered with the v5 API."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cached_property

from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import (
    AmbiguousMachineName,
    LaunchIncomplete,
    MachineNotFound,
    NoPointInTime,
    ReplicaNotFound,
    RequestRejected,
    TargetNotFound,
    TargetNotFromThisJob,
)
from dr_autopilot.models import (
    MAX_LINE,
    MAX_LISTED,
    LaunchResult,
    MachineProblem,
    Mode,
    ProviderJobStatus,
    RecoveryPoint,
    ReplicationReport,
    Target,
    machines_digest,
)
from dr_autopilot.ports import DrillCleanup, InstanceAddresses, JobSnapshot, Wave
from dr_autopilot.providers import refuse_a_plan_that_does_not_fit, refuse_if_changed
from dr_autopilot.providers.cloudendure.client import CloudEndureClient
from dr_autopilot.providers.cloudendure.models import (
    Job,
    JobStatus,
    JobType,
    LaunchItem,
    LaunchType,
    Machine,
    Project,
    Replica,
)
from dr_autopilot.providers.cloudendure.replication import (
    ReplicationThresholds,
    assess_replication,
    choose_point_in_time,
)

CONVERTERS_FINISHED = "Finished starting converters"
CONCURRENT_LOOKUPS = 8  # points-in-time requests in flight at once for a timestamp
LAUNCH_TYPE = {Mode.RECOVERY: LaunchType.RECOVERY, Mode.DRILL: LaunchType.TEST}
JOB_TYPE = {LaunchType.RECOVERY: JobType.RECOVERY_LAUNCH, LaunchType.TEST: JobType.TEST_LAUNCH}
STATUS = {
    JobStatus.PENDING: ProviderJobStatus.RUNNING,
    JobStatus.STARTED: ProviderJobStatus.RUNNING,
    JobStatus.COMPLETED: ProviderJobStatus.COMPLETED,
    JobStatus.FAILED: ProviderJobStatus.FAILED,
}


class CloudEndureProvider:
    def __init__(
        self, client: CloudEndureClient, config: FailoverConfig, instances: InstanceAddresses | None = None
    ) -> None:
        assert config.cloudendure is not None
        self._client = client
        self._config = config
        self._project_name = config.cloudendure.project_name
        self._instances = instances

    @cached_property
    def _project(self) -> Project:
        return self._client.find_project(self._project_name)

    def _machines(self) -> list[Machine]:
        """The machines to launch, in configuration order. Every step asks for them, so whatever
        would make the launch or the DNS switch fail later is refused here, before any side
        effect and in dry runs: no machine at all, a name the configuration uses (a machine, the
        webserver) missing or carried by two machines."""
        everything = list(self._client.machines(self._project.id))
        if not everything:
            raise MachineNotFound(f"project {self._project_name!r} has no machines: there is nothing to recover")
        by_name: dict[str, list[Machine]] = {}
        for machine in everything:
            by_name.setdefault(machine.name, []).append(machine)
        listed = [] if self._config.machines == "all" else list(self._config.machines)
        used = list(dict.fromkeys([*listed, self._config.webserver_machine]))
        missing = [name for name in used if name not in by_name]
        if missing:
            raise MachineNotFound(f"not in project {self._project_name!r}: {', '.join(missing[:MAX_LISTED])}")
        ambiguous = [name for name in used if len(by_name[name]) > 1]
        if ambiguous:
            raise AmbiguousMachineName(
                f"more than one machine in project {self._project_name!r} is named "
                f"{', '.join(repr(name) for name in ambiguous[:MAX_LISTED])}: rename them so that each name "
                "the configuration uses (machines, webserverMachine) belongs to one machine"
            )
        return everything if self._config.machines == "all" else [by_name[name][0] for name in listed]

    def assess_replication(self) -> ReplicationReport:
        machines = self._machines()
        if self._config.waves is not None:
            refuse_a_plan_that_does_not_fit(
                [machine.name for machine in machines],
                [(wave.name, wave.machines or []) for wave in self._config.waves],
                [wave.check.machine if wave.check else None for wave in self._config.waves],
            )
        now = self._client.server_time()
        thresholds = ReplicationThresholds(
            max_lag_seconds=self._config.replication.max_lag_seconds,
            max_agent_silence_seconds=self._config.replication.max_agent_silence_seconds,
        )
        verdicts = [assess_replication(machine, now, thresholds) for machine in machines]
        lagging = [v for v in verdicts if not v.ready]
        lags = [v.lag_seconds for v in verdicts if v.lag_seconds is not None]
        return ReplicationReport(
            total=len(verdicts),
            ready=len(verdicts) - len(lagging),
            not_ready=len(lagging),
            max_lag_seconds=round(max(lags), 1) if lags else None,
            problems=[
                MachineProblem(name=v.machine_name[:MAX_LINE], reasons=[r[:MAX_LINE] for r in v.reasons])
                for v in lagging[:MAX_LISTED]
            ],
            checked_at=now,
            machines_digest=machines_digest(machine.id for machine in machines),
        )

    def _launch_items(
        self, machines: list[Machine], requested: datetime | None
    ) -> list[tuple[LaunchItem, datetime | None]]:
        if requested is None:  # "latest": no point is chosen, so none is asked for (3,000 requests saved)
            return [(LaunchItem(machine_id=machine.id, point_in_time_id=None), None) for machine in machines]

        stop = threading.Event()  # one lookup failed: the others do not start (nor log in again)

        def lookup(machine: Machine) -> tuple[LaunchItem, datetime | None] | None:
            if stop.is_set():
                return None
            try:
                point = choose_point_in_time(self._client.points_in_time(self._project.id, machine.id), requested)
            except NoPointInTime as error:
                stop.set()
                raise NoPointInTime(f"machine {machine.name}: {error}") from None
            except BaseException:
                stop.set()
                raise
            item = LaunchItem(machine_id=machine.id, point_in_time_id=point.id if point else None)
            return item, point.date_time if point else None

        # One request per machine (the API lists no points in time for many machines), 8 at a time.
        with ThreadPoolExecutor(max_workers=max(1, min(CONCURRENT_LOOKUPS, len(machines)))) as pool:
            found = list(pool.map(lookup, machines))
        return [item for item in found if item is not None]

    def resolve_recovery_point(self, requested: datetime | None) -> RecoveryPoint:
        machines = self._machines()
        if requested is None:
            return RecoveryPoint(requested="latest", machine_count=len(machines))
        chosen = [moment for _, moment in self._launch_items(machines, requested) if moment is not None]
        return RecoveryPoint(
            requested=requested, newest_chosen=max(chosen), oldest_chosen=min(chosen), machine_count=len(machines)
        )

    def launch(
        self,
        mode: Mode,
        requested: datetime | None,
        not_before: datetime,
        execution_id: str,
        checked_machines: str | None = None,
        wave: Wave | None = None,
    ) -> LaunchResult:
        # CloudEndure jobs carry no tags: this execution's job is the one of its launch type for
        # its machines (or its wave's) created after its replication check (`execution_id` is not needed).
        machines = self._machines()
        launch_type = LAUNCH_TYPE[mode]
        launching = machines if wave is None else self._wave_machines(machines, wave)
        ours = {machine.id for machine in launching}

        def launched_by_an_earlier_attempt(ids: set[str]) -> bool:
            # our machines, or the ones the check judged if the set has changed since that launch
            judged = wave is None and checked_machines is not None and machines_digest(ids) == checked_machines
            return ids == ours or judged

        earlier = self._job_started_by_this_execution(launch_type, launched_by_an_earlier_attempt, not_before)
        if earlier is not None:
            return self._adopted(launch_type, earlier, not_before)
        refuse_if_changed(checked_machines, [machine.id for machine in machines], launched_jobs=[])
        items = [item for item, _ in self._launch_items(launching, requested)]
        job = self._client.launch(self._project.id, launch_type, items)
        return LaunchResult(
            job_id=job.id,
            launch_type=launch_type.value,
            machine_count=len(items),
            launched_at=job.creation_date_time or self._client.server_time(),
        )

    @staticmethod
    def _wave_machines(machines: list[Machine], wave: Wave) -> list[Machine]:
        names = set(wave.machines or [])
        found = [machine for machine in machines if machine.name in names]
        if len(found) != len(names):
            missing = sorted(names - {machine.name for machine in found})
            raise MachineNotFound(f"wave {wave.name!r}: not among the machines to recover: {', '.join(missing)}")
        return found

    def launch_of_this_execution(self, mode: Mode, not_before: datetime, execution_id: str) -> LaunchResult | None:
        if self._config.waves is None:
            return self._launch_since(LAUNCH_TYPE[mode], self._machines(), not_before)
        # A recovery plan: every job of ours for some of the machines (one per wave), found by
        # the red team: a wave's lost launch answer was reported as "no launch was started".
        launch_type = LAUNCH_TYPE[mode]
        ours = {machine.id for machine in self._machines()}
        jobs = [
            job
            for job in self._client.jobs(self._project.id)
            if job.type == JOB_TYPE[launch_type]
            and job.participating_machines
            and set(job.participating_machines) <= ours
            and job.creation_date_time is not None
            and job.creation_date_time >= not_before
        ]
        if not jobs:
            return None
        return LaunchResult(
            job_id=",".join(job.id for job in jobs),
            launch_type=launch_type.value,
            machine_count=sum(len(job.participating_machines) for job in jobs),
            launched_at=min(job.creation_date_time or not_before for job in jobs),
            adopted=True,
        )

    def _launch_since(
        self, launch_type: LaunchType, machines: list[Machine], not_before: datetime
    ) -> LaunchResult | None:
        """This execution's launch, as the provider lists it (None if there is none)."""
        ours = {machine.id for machine in machines}
        job = self._job_started_by_this_execution(launch_type, lambda ids: ids == ours, not_before)
        return None if job is None else self._adopted(launch_type, job, not_before)

    @staticmethod
    def _adopted(launch_type: LaunchType, job: Job, not_before: datetime) -> LaunchResult:
        return LaunchResult(
            job_id=job.id,
            launch_type=launch_type.value,
            machine_count=len(job.participating_machines),
            launched_at=job.creation_date_time or not_before,
            adopted=True,
        )

    def _job_started_by_this_execution(
        self, launch_type: LaunchType, ours: Callable[[set[str]], bool], not_before: datetime
    ) -> Job | None:
        """A job of our launch type for exactly our machines, created after this execution checked
        replication: the launch of an earlier attempt whose answer was lost (crash, timeout). Adopted
        whatever its status, FAILED too (found by the red team: a retry after a dead attempt whose
        job then failed launched a second time, and the report named only the second): one
        execution, one launch; PollJob then reports the failed job as it is."""
        for job in self._client.jobs(self._project.id):
            if (
                job.type == JOB_TYPE[launch_type]
                and ours(set(job.participating_machines))
                and job.creation_date_time is not None
                and job.creation_date_time >= not_before
            ):
                return job
        return None

    def job_snapshot(self, job_id: str, seen: int) -> JobSnapshot:
        job = self._client.job(self._project.id, job_id)
        converters = next(
            (entry.log_date_time for entry in job.log if entry.message.startswith(CONVERTERS_FINISHED)), None
        )
        new = [f"{entry.log_date_time:%H:%M:%S} {entry.message}"[:MAX_LINE] for entry in job.log[seen:]]
        return JobSnapshot(
            status=STATUS[job.known_status()],
            log_total=len(job.log),
            new_lines=new[-MAX_LISTED:],
            converters_finished_at=converters,
            created_at=job.creation_date_time or self._client.server_time(),
            provider_now=self._client.server_time(),
        )

    def find_target(self, launch: LaunchResult, want_dns_name: bool, machine: str | None = None) -> Target:
        job_id = launch.job_id
        job = self._client.job(self._project.id, job_id)
        expected = set(job.participating_machines)
        machines = [m for m in self._client.machines(self._project.id) if m.id in expected]
        without_target = [m.name for m in machines if not m.replica]
        if without_target:
            raise LaunchIncomplete(
                f"{len(expected) - len(without_target)} of {len(expected)} machines have a launched target; "
                f"missing: {', '.join(without_target[:MAX_LISTED])}"
            )
        webserver_name = machine or self._config.webserver_machine
        what = "the webserver" if machine is None else "machine"
        webserver = next((m for m in machines if m.name == webserver_name), None)
        if webserver is None or webserver.replica is None:
            raise TargetNotFound(f"{what} {webserver_name!r} was not part of job {job_id}")
        replica = self._client.replica(self._project.id, webserver.replica)
        if not _created_by(replica, webserver.id, job):
            raise TargetNotFromThisJob(
                f"{what} {webserver_name!r} points at target {replica.id} (created "
                f"{_when(replica.creation_date_time)}), not at one created by job {job_id} (started "
                f"{_when(job.creation_date_time)}): its launch in this job did not produce a target. DNS was not changed."
            )
        address, source = (
            (replica.public_ips[0], "replica") if replica.public_ips and not want_dns_name else (None, "ec2")
        )
        if address is None and replica.machine_cloud_id and self._instances is not None:
            address = self._instances.public_address(replica.machine_cloud_id, want_dns_name=want_dns_name)
        if not address:
            kind = "public DNS name" if want_dns_name else "public IP"
            raise TargetNotFound(
                f"the recovered {webserver_name} (instance {replica.machine_cloud_id}) has no {kind}, neither in CloudEndure nor in EC2"
            )
        return Target(
            machine_name=webserver_name,
            instance_id=replica.machine_cloud_id,
            address=address,
            address_source=source,
        )

    # ------------------------------------------------------------------------- drill clean-up
    def clean_up_drill(self, launch: LaunchResult) -> DrillCleanup:
        """Delete the test targets this drill's job created (DELETE replicas): a machine whose
        target is now another launch's (a recovery started since) keeps it."""
        project_id = self._project.id
        job = self._client.job(project_id, launch.job_id)
        if job.type != JobType.TEST_LAUNCH:
            raise RequestRejected(
                f"job {job.id} is a {job.type}, not a test launch: a drill's clean-up deletes only its own test targets"
            )
        ours = set(job.participating_machines)
        machines = [machine for machine in self._client.machines(project_id) if machine.id in ours]
        started = job.creation_date_time
        running = [
            other
            for other in self._client.jobs(project_id)
            if other.type == JobType.CLEANUP
            and other.status not in (JobStatus.COMPLETED, JobStatus.FAILED)
            and (started is None or (other.creation_date_time is not None and other.creation_date_time >= started))
        ]
        busy = {machine_id for other in running for machine_id in other.participating_machines}
        terminated, pending, left_alone = [], [], []
        to_delete: list[tuple[Machine, Replica]] = []
        for machine in machines:
            if machine.replica is None:
                terminated.append(f"{machine.name}: target deleted")
            elif machine.id in busy:
                pending.append(f"{machine.name}: target {machine.replica} being deleted")
            else:
                try:
                    replica = self._client.replica(project_id, machine.replica)
                except ReplicaNotFound:
                    terminated.append(f"{machine.name}: target deleted")
                    continue
                if _created_by(replica, machine.id, job):
                    to_delete.append((machine, replica))
                else:
                    left_alone.append(
                        f"{machine.name}: its target {replica.id} was created by a later launch, not by this drill"
                    )
        gone = len(ours) - len(machines)
        if gone:
            left_alone.append(f"{gone} machine(s) of the drill are no longer in project {self._project_name!r}")
        jobs = [other.id for other in running]
        if to_delete:
            cleanup = self._client.delete_replicas(project_id, [replica.id for _, replica in to_delete])
            jobs.append(cleanup.id)
            names = [f"{machine.name}: {replica.machine_cloud_id or replica.id}" for machine, replica in to_delete]
            (terminated if cleanup.status == JobStatus.COMPLETED else pending).extend(names)
        return DrillCleanup(terminated=terminated, pending=pending, left_alone=left_alone, jobs=jobs)


PROVENANCE_TOLERANCE = timedelta(seconds=60)  # between a job's end and its last target's creation time


def _created_by(replica: Replica, machine_id: str, job: Job) -> bool:
    """Provenance: the target belongs to the machine and was created while this job ran (a launch
    replaces the machine's target: one created before is an earlier launch's, one created after
    the job ended is a later launch's, such as a drill started meanwhile)."""
    created, started, ended = replica.creation_date_time, job.creation_date_time, job.end_date_time
    if replica.machine != machine_id or created is None or started is None or created < started:
        return False
    return ended is None or created <= ended + PROVENANCE_TOLERANCE


def _when(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "at an unknown time"
