"""Jobs: recoveries and terminations accepted or refused, and their effects on the emulated clock.

A job is planned in full when it is accepted (its log events and the moments each server's
launch starts, runs or fails); its effects (a drill instance replaced, a recovery instance
launched into the fleet, one terminated, the servers freed at the end) are applied the first
time anyone looks after they are due (`Jobs.settle`), in log order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from local.cloudendure.clock import Clock
from local.drs.errors import conflict, not_found, quota_exceeded
from local.drs.fleet import HostRequest, LaunchedHost, RecoveryHosts
from local.drs.inventory import Inventory, RecoveryInstances
from local.drs.records import Arns, Job, LogEvent, Participant, RecoveryInstance, Snapshot, SourceServer, stable_hex
from local.drs.scenario import FLOWING_STATES, JobSpec, QuotaSpec
from local.drs.validation import reject

# EC2 tags DRS puts on the instances it launches.
MANAGED_TAGS = {"AWSElasticDisasterRecoveryManaged": "drs.amazonaws.com"}
SOURCE_SERVER_TAG = "AWSElasticDisasterRecoverySourceServerID"
SNAPSHOT_FAIL_ERROR = "Source server has no recovery snapshot: data replication has not completed an initial sync"


@dataclass(frozen=True)
class RecoveryRequest:
    """One server of a StartRecovery call, resolved: the server and its chosen snapshot, if any."""

    server: SourceServer
    snapshot: Snapshot | None


def plan_launch(spec: JobSpec, requests: list[RecoveryRequest], previous: dict[str, str], now: datetime) -> Job:
    """The job's log and its servers' launch moments (a Job without id, arn or type yet)."""
    start, conversion_end, end = spec.pending_seconds, spec.conversion_end_at_seconds, spec.duration_seconds
    snapshot_end = start + 0.25 * (conversion_end - start)
    conversion_start = start + 0.3 * (conversion_end - start)
    log = [LogEvent(start, "JOB_START")]
    participants: dict[str, Participant] = {}
    for index, request in enumerate(requests):
        server, sid = request.server, request.server.id
        stagger = min(index * 0.05, 10.0)  # servers of a large job do not all log in the same instant
        participant = Participant(sid, request.snapshot, None, cleanup_instance_id=previous.get(sid))
        participants[sid] = participant
        if participant.cleanup_instance_id:
            log += [LogEvent(start + 1, "CLEANUP_START", sid), LogEvent(start + 3, "CLEANUP_END", sid)]
        snapshot = request.snapshot
        if snapshot is None and server.spec.state in FLOWING_STATES:
            lag = server.lag_seconds(now) or 0.0
            participant.point_in_time = now - timedelta(seconds=lag)
            log += [LogEvent(start + 4 + stagger, "SNAPSHOT_START", sid), LogEvent(snapshot_end, "SNAPSHOT_END", sid)]
        else:
            snapshot = snapshot or next(iter(reversed(server.snapshots(now))), None)
            if snapshot is None:
                participant.failed_at = start + 10 + stagger
                log.append(LogEvent(participant.failed_at, "SNAPSHOT_FAIL", sid, SNAPSHOT_FAIL_ERROR))
                continue
            participant.snapshot, participant.point_in_time = snapshot, snapshot.taken
            log.append(LogEvent(start + 4 + stagger, "USING_PREVIOUS_SNAPSHOT", sid))
        log.append(LogEvent(conversion_start + stagger, "CONVERSION_START", sid))
        if spec.stuck:
            continue
        log.append(LogEvent(conversion_end + stagger, "CONVERSION_END", sid))
        participant.launch_at = conversion_end + (end - conversion_end) * (index + 1) / (len(requests) + 2)
        halfway = participant.launch_at + (end - participant.launch_at) / 2
        log.append(LogEvent(participant.launch_at, "LAUNCH_START", sid))
        if server.spec.launch_fails:
            participant.failed_at = halfway
            log.append(LogEvent(halfway, "LAUNCH_FAILED", sid, server.spec.launch_error))
        else:
            participant.launched_at = halfway
    if not spec.stuck:
        log.append(LogEvent(end, "JOB_END"))
    log.sort(key=lambda event: event.offset)
    return Job("", "", "LAUNCH", "", now, start, None if spec.stuck else end, participants, log)


class Jobs:
    """The account's jobs, oldest first, with the servers busy in active ones and the quotas.

    Not locked itself: the account's lock guards every call (see `Account`).
    """

    def __init__(
        self,
        spec: JobSpec,
        quotas: QuotaSpec,
        inventory: Inventory,
        instances: RecoveryInstances,
        hosts: RecoveryHosts,
        arns: Arns,
        clock: Clock,
        id_seed: str,
    ) -> None:
        self.spec, self.quotas = spec, quotas
        self.inventory, self.instances, self.hosts = inventory, instances, hosts
        self.arns, self.clock, self._id_seed = arns, clock, id_seed
        self.jobs: dict[str, Job] = {}
        self.order: list[Job] = []
        self.busy: dict[str, str] = {}  # source server id -> the active job it is in
        self._unlaunched: list[tuple[Job, Participant]] = []  # due, but the fleet failed to run them
        self.recoveries_accepted = 0

    def find(self, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise not_found("JOB", job_id)
        return job

    def start_recovery(self, requests: list[RecoveryRequest], is_drill: bool, tags: dict[str, str]) -> Job:
        """Accept a LAUNCH job for these servers, or refuse it (conflict, quota)."""
        self._check_free(request.server.id for request in requests)
        self._check_quotas(len(requests))
        now = self.clock.now()
        previous = {}
        for request in requests:
            instance = self.instances.items.get(request.server.recovery_instance_id or "")
            if instance is not None and instance.is_drill:
                previous[request.server.id] = instance.id
        job = plan_launch(self.spec, requests, previous, now)
        job.initiated_by = "START_DRILL" if is_drill else "START_RECOVERY"
        job.tags = dict(tags)
        self._register(job)
        self.recoveries_accepted += 1
        for request in requests:
            request.server.last_launch_job_id = job.id
        return job

    def terminate(self, instance_ids: list[str]) -> Job:
        """Accept a TERMINATE job for these recovery instances (all known), or refuse it."""
        if len(set(instance_ids)) != len(instance_ids):
            raise reject("recoveryInstanceIDs", "Member must not contain duplicate recovery instance IDs")
        instances = [self.instances.find(instance_id) for instance_id in instance_ids]
        for instance in instances:
            if instance.terminating_job_id is not None:
                message = f"Recovery instance {instance.id} is already being terminated"
                raise conflict(message, instance.id, "RECOVERY_INSTANCE")
        self._check_free(instance.source_server_id for instance in instances)
        self._check_quotas(len(instances))
        start, end = self.spec.pending_seconds, self.spec.pending_seconds + self.spec.terminate_seconds
        log = [LogEvent(start, "JOB_START")]
        for instance in instances:
            log += [LogEvent(start + 1, "CLEANUP_START", instance.id), LogEvent(end - 1, "CLEANUP_END", instance.id)]
        log.append(LogEvent(end, "JOB_END"))
        log.sort(key=lambda event: event.offset)
        participants = {i.id: Participant(i.source_server_id, None, None, recovery_instance_id=i.id) for i in instances}
        job = Job("", "", "TERMINATE", "TERMINATE_RECOVERY_INSTANCES", self.clock.now(), start, end, participants, log)
        self._register(job)
        for instance in instances:
            instance.terminating_job_id = job.id
        return job

    def settle(self) -> None:
        """Apply every effect that has fallen due since the last look. The instances due to
        launch are launched together at the end of the pass, in one call to the fleet."""
        now = self.clock.now()
        launches, self._unlaunched = self._unlaunched, []
        for job in [job for job in self.order if not job.finished]:
            elapsed = job.elapsed(now)
            while job.applied < len(job.log) and job.log[job.applied].offset <= elapsed:
                launches += self._apply(job, job.log[job.applied])
                job.applied += 1
        if launches:
            try:
                self._launch(launches)
            except BaseException:
                self._unlaunched = launches  # the next look launches them (the fleet failed this time)
                raise

    def _apply(self, job: Job, event: LogEvent) -> list[tuple[Job, Participant]]:
        """Apply one log event; returns the launch it makes due, if any."""
        participant = job.participants.get(event.participant or "")
        if event.event == "CLEANUP_END" and participant is not None:
            instance_id = participant.cleanup_instance_id or participant.recovery_instance_id
            if instance_id:
                self._terminate_instance(instance_id)
        elif event.event == "LAUNCH_START" and participant is not None and participant.launched_at is not None:
            return [(job, participant)]
        elif event.event == "JOB_END":
            job.finished = True
            for member in job.participants.values():
                self.busy.pop(member.source_server_id, None)
        return []

    def _launch(self, launches: list[tuple[Job, Participant]]) -> None:
        servers = [self.inventory.servers[participant.source_server_id] for _, participant in launches]
        hosts = self.hosts.launch(
            [
                HostRequest(
                    server.spec.hostname,
                    server.spec.webserver or server.spec.serves,
                    {**server.tags, **MANAGED_TAGS, SOURCE_SERVER_TAG: server.id},
                )
                for server in servers
            ]
        )
        for (job, participant), server, host in zip(launches, servers, hosts, strict=True):
            self._register_instance(job, participant, server, host)

    def _register_instance(self, job: Job, participant: Participant, server: SourceServer, host: LaunchedHost) -> None:
        created = job.created_at + timedelta(seconds=participant.launch_at or 0.0)
        instance = RecoveryInstance(
            id=host.instance_id,
            arn=self.arns.of("recovery-instance", host.instance_id),
            source_server_id=server.id,
            job_id=job.id,
            is_drill=job.is_drill,
            point_in_time=participant.point_in_time or created,
            created_at=created,
            running_at=job.created_at + timedelta(seconds=participant.launched_at or 0.0),
            public_ip=host.public_ip,
            private_ip=host.private_ip,
        )
        self.instances.add(instance)
        participant.recovery_instance_id = server.recovery_instance_id = instance.id

    def _terminate_instance(self, instance_id: str) -> None:
        instance = self.instances.remove(instance_id)
        if instance is None:
            return
        self.hosts.terminate(instance_id)
        server = self.inventory.servers.get(instance.source_server_id)
        if server is not None and server.recovery_instance_id == instance_id:
            server.recovery_instance_id = None
        launch = self.jobs.get(instance.job_id)
        participant = None if launch is None else launch.participants.get(instance.source_server_id)
        if participant is not None:
            participant.terminated = True

    def _register(self, job: Job) -> None:
        job.id = "drsjob-" + stable_hex(self._id_seed, "job", str(len(self.order)))
        job.arn = self.arns.of("job", job.id)
        self.jobs[job.id] = job
        self.order.append(job)
        for participant in job.participants.values():
            self.busy[participant.source_server_id] = job.id

    def _check_free(self, server_ids: Iterable[str]) -> None:
        """One job per server at a time: refuse a server that an active job still holds."""
        self.settle()
        for server_id in server_ids:
            if server_id in self.busy:
                message = f"Source server {server_id} is already participating in active job {self.busy[server_id]}"
                raise conflict(message, server_id, "SOURCE_SERVER")

    def _check_quotas(self, server_count: int) -> None:
        active_jobs = len({job_id for job_id in self.busy.values()})
        if active_jobs >= self.quotas.concurrent_jobs:
            message = f"Maximum number of concurrent jobs ({self.quotas.concurrent_jobs}) reached"
            raise quota_exceeded(message, "ConcurrentJobs", "JOB")
        if len(self.busy) + server_count > self.quotas.servers_in_active_jobs:
            limit = self.quotas.servers_in_active_jobs
            message = f"Maximum number of source servers in all active jobs ({limit}) would be exceeded"
            raise quota_exceeded(message, "SourceServersInAllActiveJobs", "SOURCE_SERVER")
