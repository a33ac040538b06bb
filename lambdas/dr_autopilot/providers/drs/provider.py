"""AWS Elastic Disaster Recovery (DRS) as a recovery provider: the workflow's questions answered
with the DRS API (boto3 `drs`) and EC2 for the recovered webserver's address.

- Replication: one paginated DescribeSourceServers listing for the whole estate; no request per
  source server where the API offers a listing.
- Recovery point: "latest" asks nothing per server (StartRecovery without a snapshot ID takes a
  fresh snapshot); a timestamp asks DescribeRecoverySnapshots for each server, 8 at a time.
- Launch: StartRecovery in jobs of at most 200 source servers, each job tagged with the
  execution (`dr-autopilot:execution`) and its batch number (`dr-autopilot:batch`). A retried
  step lists this execution's jobs (DescribeJobs from its replication check on) and launches only
  the servers none of them holds: a server is never launched twice by one execution. The
  LaunchResult's job id is the DRS job IDs joined with "," (at most 15 for 3,000 servers).
- Job: done when every job is COMPLETED; DRS has no FAILED job status, so a job whose servers did
  not all launch (`launchStatus` FAILED) is reported FAILED, naming them.

IAM: the actions this provider calls are drs:DescribeSourceServers, drs:DescribeRecoverySnapshots,
drs:StartRecovery, drs:DescribeJobs, drs:DescribeJobLogItems, drs:DescribeRecoveryInstances and
ec2:DescribeInstances. StartRecovery runs with the caller's permissions for what DRS does on its
behalf: AWS's Service Authorization Reference lists its dependent actions (drs:CreateRecoveryInstanceForDrs,
drs:ListTagsForResource, EC2 launch-template, volume, snapshot, security-group and instance actions,
iam:PassRole), and tagging the job at creation needs drs:TagResource. See "Actions, resources, and
condition keys for AWS Elastic Disaster Recovery",
https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticdisasterrecovery.html
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import (
    AmbiguousMachineName,
    JobAlreadyRunning,
    LaunchIncomplete,
    MachineNotFound,
    NoPointInTime,
    RequestRejected,
    TargetNotFound,
    TargetNotFromThisJob,
    WavePlanInvalid,
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
from dr_autopilot.providers.drs.client import MAX_INSTANCES_PER_TERMINATION, MAX_SERVERS_PER_JOB, DrsClient
from dr_autopilot.providers.drs.models import (
    InitiatedBy,
    Job,
    JobLogItem,
    JobStatus,
    LaunchStatus,
    ParticipatingServer,
    RecoveryInstance,
    RecoverySnapshot,
    SourceServer,
)
from dr_autopilot.providers.drs.replication import ReplicationThresholds, assess_replication

READY_MEANS = "ready for recovery in DRS (data replication CONTINUOUS, lag and agent within bounds)"
EXECUTION_TAG = "dr-autopilot:execution"
BATCH_TAG = "dr-autopilot:batch"
WAVE_TAG = "dr-autopilot:wave"  # the wave of a recovery plan a job launched (absent without a plan)
MAX_TAG_VALUE = 256
CONCURRENT_LOOKUPS = 8
# This execution's jobs are recognised by their tag; the time window only bounds the listing. It
# opens a little before the replication check, in case the Lambda's clock runs ahead of DRS's.
CLOCK_SKEW_MARGIN = timedelta(minutes=15)
LAUNCH_TYPE = {Mode.RECOVERY: "RECOVERY", Mode.DRILL: "DRILL"}
INITIATED_BY = {Mode.RECOVERY: InitiatedBy.START_RECOVERY, Mode.DRILL: InitiatedBy.START_DRILL}
CONVERSION_END = "CONVERSION_END"
JOB_END = "JOB_END"
TERMINATE_JOB = "TERMINATE"  # Job.type of a TerminateRecoveryInstances job
FAILURE_EVENTS = frozenset({"LAUNCH_FAILED", "SNAPSHOT_FAIL", "CONVERSION_FAIL", "USING_PREVIOUS_SNAPSHOT_FAILED"})
MAX_FAILED_NAMED = 3  # the failures poll_job quotes (it shows the last three lines)
NOT_LAUNCHED = frozenset({LaunchStatus.PENDING, LaunchStatus.IN_PROGRESS, LaunchStatus.FAILED, None})


def execution_tag(execution_id: str) -> str:
    """The execution's tag value: its ARN (at most 256 characters, as a Step Functions execution
    ARN is), else a digest of it."""
    if len(execution_id) <= MAX_TAG_VALUE:
        return execution_id
    return "sha256:" + hashlib.sha256(execution_id.encode()).hexdigest()


def job_ids(job_id: str) -> list[str]:
    """The DRS job IDs of a LaunchResult's `job_id` (joined with ",")."""
    return [part.strip() for part in job_id.split(",") if part.strip()]


@dataclass(frozen=True)
class Machine:
    """A source server the configuration selects, with the name a person reads in messages."""

    server: SourceServer
    name: str


class DrsProvider:
    """DRS for one account and region (satisfies `ports.RecoveryProvider`).

    Agent silence and job age are measured on DRS's clock (`now`: by default the client's
    reading of its answers' Date headers), so a Lambda whose clock is off misjudges neither.
    """

    def __init__(
        self,
        client: DrsClient,
        config: FailoverConfig,
        instances: InstanceAddresses,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        assert config.drs is not None  # the configuration requires the section for this provider
        self._client = client
        self._config = config
        self._drs = config.drs
        self._instances = instances
        self._now = now or client.server_time
        self._final_logs: dict[str, list[JobLogItem]] = {}  # by job id, once the job is COMPLETED
        # By job id: the items of its log's full pages read so far and the token after them.
        self._log_pages: dict[str, tuple[list[JobLogItem], str]] = {}

    # ---------------------------------------------------------------------------- machines
    def _key(self, server: SourceServer) -> str | None:
        """The name the configuration uses for the server (its hostname or its ID)."""
        return server.id if self._drs.identify_by == "sourceServerId" else server.hostname

    def _machines(self) -> list[Machine]:
        """The source servers to launch, in configuration (else listing) order. Every step asks
        for them, so whatever would make the launch or the DNS switch fail later is refused here,
        before any side effect and in dry runs: no source server at all, a name the configuration
        uses (machines, webserverMachine) missing or carried by two servers."""
        everything = [server for server in self._client.source_servers() if not server.is_archived]
        where = f"DRS ({self._client.region})"
        if not everything:
            raise MachineNotFound(f"{where} has no source servers: there is nothing to recover")
        by_name: dict[str, list[SourceServer]] = {}
        for server in everything:
            key = self._key(server)
            if key:
                by_name.setdefault(key, []).append(server)
        listed = [] if self._config.machines == "all" else list(self._config.machines)
        webserver = self._config.webserver_machine
        used = list(dict.fromkeys([*listed, webserver]))
        missing = [name for name in used if name not in by_name]
        kind = "source server ID" if self._drs.identify_by == "sourceServerId" else "hostname"
        if missing:
            raise MachineNotFound(f"no source server in {where} with the {kind} {', '.join(missing[:MAX_LISTED])}")
        ambiguous = [name for name in used if len(by_name[name]) > 1]
        if ambiguous:
            raise AmbiguousMachineName(
                f"more than one source server in {where} has the {kind} "
                f"{', '.join(repr(name) for name in ambiguous[:MAX_LISTED])}: give each name the configuration "
                "uses (machines, webserverMachine) to one server, or set drs.identifyBy to sourceServerId"
            )
        if listed:
            return [Machine(by_name[name][0], name) for name in listed]
        wanted = self._drs.tags.items()
        selected = [server for server in everything if all(server.tags.get(k) == v for k, v in wanted)]
        if not selected:
            raise MachineNotFound(
                f"no source server in {where} carries the tags {dict(wanted)}: there is nothing to recover"
            )
        if by_name[webserver][0] not in selected:
            raise MachineNotFound(f"the webserver {webserver!r} does not carry the tags {dict(wanted)} (drs.tags)")
        return [Machine(server, self._key(server) or server.display_name) for server in selected]

    # ------------------------------------------------------------------------- replication
    def assess_replication(self) -> ReplicationReport:
        machines = self._machines()
        self._refuse_a_plan_that_does_not_fit(machines)
        now = self._now()
        thresholds = ReplicationThresholds(
            max_lag_seconds=self._config.replication.max_lag_seconds,
            max_agent_silence_seconds=self._config.replication.max_agent_silence_seconds,
        )
        verdicts = [assess_replication(machine.server, machine.name, now, thresholds) for machine in machines]
        lagging = [verdict for verdict in verdicts if not verdict.ready]
        lags = [verdict.lag_seconds for verdict in verdicts if verdict.lag_seconds is not None]
        return ReplicationReport(
            total=len(verdicts),
            ready=len(verdicts) - len(lagging),
            not_ready=len(lagging),
            max_lag_seconds=round(max(lags), 1) if lags else None,
            problems=[
                MachineProblem(name=v.name[:MAX_LINE], reasons=[reason[:MAX_LINE] for reason in v.reasons])
                for v in lagging[:MAX_LISTED]
            ],
            checked_at=now,
            ready_means=READY_MEANS,
            machines_digest=machines_digest(machine.server.id for machine in machines),
        )

    # ---------------------------------------------------------------------- recovery point
    def _snapshots(self, machines: list[Machine], requested: datetime) -> dict[str, RecoverySnapshot]:
        """The newest snapshot at or before `requested` of each server (looked up 8 at a time);
        NoPointInTime naming the servers that have none."""
        if requested.tzinfo is None:
            raise ValueError("the requested recovery time must carry a time zone")
        with ThreadPoolExecutor(max_workers=max(1, min(CONCURRENT_LOOKUPS, len(machines)))) as pool:
            found = list(pool.map(lambda m: self._client.newest_snapshot(m.server.id, requested), machines))
        missing = [machine.name for machine, snapshot in zip(machines, found, strict=True) if snapshot is None]
        if missing:
            noun = "machine" if len(missing) == 1 else f"{len(missing)} machines"
            raise NoPointInTime(
                f"{noun} {', '.join(missing[:MAX_LISTED])}: no recovery point at or before {requested.isoformat()}"
            )
        return {machine.server.id: snapshot for machine, snapshot in zip(machines, found, strict=True) if snapshot}

    def resolve_recovery_point(self, requested: datetime | None) -> RecoveryPoint:
        machines = self._machines()
        if requested is None:
            return RecoveryPoint(requested="latest", machine_count=len(machines))
        chosen = [snapshot.taken_at for snapshot in self._snapshots(machines, requested).values()]
        return RecoveryPoint(
            requested=requested, newest_chosen=max(chosen), oldest_chosen=min(chosen), machine_count=len(machines)
        )

    # ------------------------------------------------------------------------------ launch
    def launch(
        self,
        mode: Mode,
        requested: datetime | None,
        not_before: datetime,
        execution_id: str,
        checked_machines: str | None = None,
        wave: Wave | None = None,
    ) -> LaunchResult:
        machines = self._machines()
        tag = execution_tag(execution_id)
        if wave is not None and wave.index > 0:
            every = self._jobs_of_this_execution(mode, not_before, tag, every_wave=True)
            self._refuse_a_plan_changed_since_earlier_waves(machines, wave, every)
        launching = machines if wave is None else self._wave_machines(machines, wave)
        earlier = self._jobs_of_this_execution(mode, not_before, tag, wave)
        launched = {server.source_server_id for job in earlier for server in job.participating_servers}
        remaining = [machine for machine in launching if machine.server.id not in launched]
        webserver = self._webserver_of(launching)
        judged = wave is None and checked_machines == machines_digest(launched)
        if not remaining or (earlier and judged):
            # all launched, or every machine the check judged was (the set has changed since)
            return self._result(mode, earlier, adopted=True, webserver=webserver)
        refuse_if_changed(checked_machines, [m.server.id for m in machines], launched_jobs=[job.id for job in earlier])
        snapshots = self._snapshots(remaining, requested) if requested is not None else {}
        jobs = list(earlier)
        for start in range(0, len(remaining), MAX_SERVERS_PER_JOB):
            batch = remaining[start : start + MAX_SERVERS_PER_JOB]
            servers = [(m.server.id, snapshots[m.server.id].id if m.server.id in snapshots else None) for m in batch]
            tags = {EXECUTION_TAG: tag, BATCH_TAG: str(len(jobs) + 1)} | (
                {WAVE_TAG: str(wave.index)} if wave is not None else {}
            )
            try:
                job = self._client.start_recovery(servers, is_drill=mode is Mode.DRILL, tags=tags)
            except JobAlreadyRunning as error:
                job = self._own_job_for(mode, not_before, tag, batch, error, started=jobs[len(earlier) :])
            jobs.append(job)
        return self._result(mode, jobs, adopted=False, webserver=webserver)

    def _wave_machines(self, machines: list[Machine], wave: Wave) -> list[Machine]:
        """The machines of one wave: by name, or the servers carrying the wave's tags."""
        if wave.tags:
            wanted = wave.tags.items()
            return [m for m in machines if all(m.server.tags.get(key) == value for key, value in wanted)]
        names = set(wave.machines or [])
        found = [machine for machine in machines if machine.name in names]
        if len(found) != len(names):
            missing = sorted(names - {machine.name for machine in found})
            raise MachineNotFound(f"wave {wave.name!r}: not among the source servers to recover: {', '.join(missing)}")
        return found

    def _refuse_a_plan_that_does_not_fit(self, machines: list[Machine], done: str = "Nothing was launched.") -> None:
        """With a recovery plan: every server to recover in exactly one wave, or nothing is
        launched (found at the replication check, before any side effect)."""
        if self._config.waves is None:
            return
        refuse_a_plan_that_does_not_fit(
            [m.name for m in machines],
            [
                (wave.name, [m.name for m in self._wave_machines(machines, wave)] if wave.tags else wave.machines or [])
                for wave in self._plan()
            ],
            [wave.check.machine if wave.check else None for wave in self._config.waves],
            done,
        )

    def _plan(self) -> list[Wave]:
        return [Wave(index, wave.name, wave.machines, wave.tags) for index, wave in enumerate(self._config.waves or [])]

    def _refuse_a_plan_changed_since_earlier_waves(
        self, machines: list[Machine], wave: Wave, earlier_jobs: list[Job]
    ) -> None:
        """Before a later wave: the plan still fits, and the servers now in the earlier waves are
        exactly those their jobs launched (a retag between waves must not launch a server twice,
        or never; found by the red team)."""
        plan = self._plan()
        before = {m.server.id for earlier in plan[: wave.index] for m in self._wave_machines(machines, earlier)}
        launched = {
            server.source_server_id
            for job in earlier_jobs
            if job.tags.get(WAVE_TAG, "").isdigit() and int(job.tags[WAVE_TAG]) < wave.index
            for server in job.participating_servers
        }
        if before != launched:
            moved = self._names(before ^ launched)
            raise WavePlanInvalid(
                f"wave {wave.name!r}: the servers' tags changed since the earlier waves launched "
                f"({', '.join(sorted(moved.values()))[:MAX_LINE]}): the earlier waves' jobs keep running, "
                "nothing more was launched"
            )
        self._refuse_a_plan_that_does_not_fit(
            machines,
            done=f"Found before wave {wave.name!r}: the earlier waves' jobs keep running, nothing more was launched.",
        )

    def _own_job_for(
        self,
        mode: Mode,
        not_before: datetime,
        tag: str,
        batch: list[Machine],
        error: JobAlreadyRunning,
        started: list[Job],
    ) -> Job:
        """After a ConflictException: this execution's job holding the batch's servers (botocore
        repeated a StartRecovery whose first answer was lost, and the conflict is with it), or
        JobAlreadyRunning saying what this attempt had already started."""
        wanted = {machine.server.id for machine in batch}
        for job in self._jobs_of_this_execution(mode, not_before, tag, every_wave=True):
            if {server.source_server_id for server in job.participating_servers} == wanted:
                return job
        before = (
            f" This attempt had started job(s) {', '.join(job.id for job in started)} for other servers."
            if started
            else ""
        )
        raise JobAlreadyRunning(f"{error}.{before} Nothing was launched for the servers in conflict.") from error

    def launch_of_this_execution(self, mode: Mode, not_before: datetime, execution_id: str) -> LaunchResult | None:
        jobs = self._jobs_of_this_execution(mode, not_before, execution_tag(execution_id), every_wave=True)
        return self._result(mode, jobs, adopted=True, webserver=None) if jobs else None

    def _jobs_of_this_execution(
        self, mode: Mode, not_before: datetime, tag: str, wave: Wave | None = None, every_wave: bool = False
    ) -> list[Job]:
        """The jobs tagged with this execution (and with `wave`, unless `every_wave`), in batch order."""
        wave_tag = str(wave.index) if wave is not None else None
        jobs = [
            job
            for job in self._client.jobs_since(not_before - CLOCK_SKEW_MARGIN)
            if job.tags.get(EXECUTION_TAG) == tag
            and job.initiated_by == INITIATED_BY[mode]
            and (every_wave or job.tags.get(WAVE_TAG) == wave_tag)
        ]
        return sorted(jobs, key=lambda job: (_batch_number(job), job.creation_date_time or not_before))

    def _result(self, mode: Mode, jobs: list[Job], adopted: bool, webserver: SourceServer | None) -> LaunchResult:
        created = [job.creation_date_time for job in jobs if job.creation_date_time is not None]
        servers = {server.source_server_id for job in jobs for server in job.participating_servers}
        return LaunchResult(
            job_id=",".join(job.id for job in jobs),
            launch_type=LAUNCH_TYPE[mode],
            machine_count=len(servers),
            launched_at=min(created) if created else self._now(),
            adopted=adopted,
            webserver_id=webserver.id if webserver is not None else None,
        )

    def _webserver_of(self, machines: list[Machine]) -> SourceServer | None:
        name = self._config.webserver_machine
        return next((m.server for m in machines if self._key(m.server) == name), None)

    def _webserver(self, launch: LaunchResult) -> SourceServer:
        """The configured webserver's source server: the one the launch resolved, asked for by
        its ID, if it still carries the configured name; else from the full listing, whose checks
        name what changed (a renamed, removed or duplicated server)."""
        if launch.webserver_id:
            found = [s for s in self._client.source_servers([launch.webserver_id]) if not s.is_archived]
            if len(found) == 1 and self._key(found[0]) == self._config.webserver_machine:
                return found[0]
        name = self._config.webserver_machine
        webserver = self._webserver_of(self._machines())
        if webserver is None:  # _machines() has already refused a webserver name it cannot find
            raise TargetNotFound(f"the webserver {name!r} is not among the source servers to recover")
        return webserver

    def _server_named(self, name: str) -> SourceServer:
        found = next((m.server for m in self._machines() if m.name == name), None)
        if found is None:
            raise TargetNotFound(f"machine {name!r} is not among the source servers to recover")
        return found

    # --------------------------------------------------------------------------------- job
    def job_snapshot(self, job_id: str, seen: int) -> JobSnapshot:
        jobs = self._client.jobs(job_ids(job_id))
        log = self._merged_log(jobs)
        status = _status(jobs)
        shown = log[seen:][-MAX_LISTED:]
        failed = [s for job in jobs for s in job.participating_servers if s.launch_status is LaunchStatus.FAILED]
        named = failed[:MAX_FAILED_NAMED]
        names = self._names(
            [item.event_data.source_server_id for _, item in shown if item.event_data.source_server_id]
            + ([server.source_server_id for server in named] if status is ProviderJobStatus.FAILED else [])
        )
        lines = [_render(item, names, index, len(jobs)) for index, item in shown]
        if status is ProviderJobStatus.FAILED:
            failures = _failure_lines(failed, log, names)
            lines = lines[: max(0, MAX_LISTED - len(failures))] + failures
        conversions = [item.log_date_time for _, item in log if item.event == CONVERSION_END]
        created = [job.creation_date_time for job in jobs if job.creation_date_time is not None]
        now = self._now()
        return JobSnapshot(
            status=status,
            log_total=len(log),
            new_lines=lines,
            converters_finished_at=max(conversions) if conversions else None,
            created_at=min(created) if created else now,
            provider_now=now,
        )

    def _merged_log(self, jobs: list[Job]) -> list[tuple[int, JobLogItem]]:
        """Every job's log, merged in time order: (job number from 1, item). Stable: items of
        one moment keep their job's order."""
        with ThreadPoolExecutor(max_workers=max(1, min(CONCURRENT_LOOKUPS, len(jobs)))) as pool:
            logs = list(pool.map(self._job_log, jobs))
        entries = [
            (item.log_date_time, index, position, item)
            for index, items in enumerate(logs, 1)
            for position, item in enumerate(items)
        ]
        entries.sort(key=lambda entry: entry[:3])
        return [(index, item) for _, index, _, item in entries]

    def _job_log(self, job: Job) -> list[JobLogItem]:
        """A job's log. The API has no "since", and a poll of 15 jobs of 200 servers would re-read
        thousands of items, so a warm function keeps what cannot change: a COMPLETED job's whole
        log, and a running job's full pages with the token after them, from which the next read
        resumes (a token DRS no longer accepts means one read from the start)."""
        cached = self._final_logs.get(job.id)
        if cached is not None:
            return cached
        known, token = self._log_pages.get(job.id, ([], None))
        try:
            settled, rest, token = self._client.job_log_from(job.id, token)
        except RequestRejected:  # ValidationException: the token expired or is not valid any more
            if token is None:
                raise
            known, (settled, rest, token) = [], self._client.job_log_from(job.id, None)
        known = known + settled
        if token:
            self._log_pages[job.id] = (known, token)
        items = known + rest
        if job.status is JobStatus.COMPLETED:
            if not any(item.event == JOB_END for item in reversed(items)):
                # A resumed read that missed the end (a token that froze the listing): once more
                # from the start, so the final log is whole.
                items = self._client.job_log(job.id)
            self._final_logs[job.id] = items
            self._log_pages.pop(job.id, None)
        return items

    def _names(self, server_ids: Iterable[str]) -> dict[str, str]:
        """Hostnames of these source servers (one filtered listing), for log lines."""
        wanted = list(dict.fromkeys(server_ids))
        return {server.id: server.display_name for server in self._client.source_servers(wanted)} if wanted else {}

    # ------------------------------------------------------------------------------ target
    def find_target(self, launch: LaunchResult, want_dns_name: bool, machine: str | None = None) -> Target:
        job_id = launch.job_id
        jobs = self._client.jobs(job_ids(job_id))
        ours = {job.id for job in jobs}
        participants = {server.source_server_id: server for job in jobs for server in job.participating_servers}
        incomplete = [
            server.source_server_id
            for server in participants.values()
            if server.launch_status in NOT_LAUNCHED
            or (server.launch_status is LaunchStatus.LAUNCHED and not server.recovery_instance_id)
        ]
        if incomplete:
            names = self._names(incomplete[:MAX_LISTED])
            raise LaunchIncomplete(
                f"{len(participants) - len(incomplete)} of {len(participants)} machines have a launched target; "
                f"missing: {', '.join(names.get(i, i) for i in incomplete[:MAX_LISTED])}"
            )
        name = machine or self._config.webserver_machine
        webserver = self._webserver(launch) if machine is None else self._server_named(machine)
        launched = participants.get(webserver.id)
        if launched is None:
            what = "the webserver" if machine is None else "machine"
            raise TargetNotFound(f"{what} {name!r} was not part of job {job_id}")
        instance = self._recovery_instance(
            launched.recovery_instance_id if launched.launch_status is LaunchStatus.LAUNCHED else None
        )
        if instance is None:  # this job's instance is gone (terminated, replaced): what is there now?
            instance = self._recovery_instance(webserver.recovery_instance_id)
        if instance is None:
            raise TargetNotFound(
                f"the recovered {name} (recovery instance {launched.recovery_instance_id}) no longer exists in DRS: "
                f"it was terminated after job {job_id} launched it"
            )
        if instance.job_id not in ours:
            drill = ", a drill" if instance.is_drill else ""
            raise TargetNotFromThisJob(
                f"the webserver {name!r} points at recovery instance {instance.id} (launched by job {instance.job_id}{drill}), "
                f"not at one launched by job {job_id}: this launch's instance was terminated or replaced. DNS was not changed."
            )
        ec2_id = instance.ec2_instance_id or instance.id
        address = self._instances.public_address(ec2_id, want_dns_name=want_dns_name)
        if not address:
            kind = "public DNS name" if want_dns_name else "public IP"
            raise TargetNotFound(f"the recovered {name} (instance {ec2_id}) has no {kind} in EC2")
        return Target(machine_name=name, instance_id=ec2_id, address=address, address_source="ec2")

    def _recovery_instance(self, recovery_instance_id: str | None) -> RecoveryInstance | None:
        if not recovery_instance_id:
            return None
        return next(iter(self._client.recovery_instances([recovery_instance_id])), None)

    # ------------------------------------------------------------------------ drill clean-up
    def clean_up_drill(self, launch: LaunchResult) -> DrillCleanup:
        """TerminateRecoveryInstances for the drill instances this drill's job(s) launched that
        still exist and are not being terminated; an instance a later job launched is left."""
        jobs = self._client.jobs(job_ids(launch.job_id))
        not_drills = [job.id for job in jobs if job.initiated_by != InitiatedBy.START_DRILL]
        if not_drills:
            raise RequestRejected(
                f"job(s) {', '.join(not_drills)} are not drills: a drill's clean-up terminates only its own drill instances"
            )
        ours = {job.id for job in jobs}
        launched = {
            server.recovery_instance_id: server.source_server_id
            for job in jobs
            for server in job.participating_servers
            if server.recovery_instance_id
        }
        names = self._names(set(launched.values()))
        label = {instance_id: names.get(server, server) for instance_id, server in launched.items()}
        existing = {instance.id: instance for instance in self._client.recovery_instances(sorted(launched))}
        terminations = [
            job for job in self._client.jobs_since(launch.launched_at - CLOCK_SKEW_MARGIN) if job.type == TERMINATE_JOB
        ]
        terminating = {
            server.recovery_instance_id: job.id
            for job in terminations
            if job.status is not JobStatus.COMPLETED
            for server in job.participating_servers
            if server.recovery_instance_id in existing
        }
        # A termination that ended with the instance still there: asking again would only repeat
        # it every few seconds (found by the red team); it is reported instead.
        ended = {
            server.recovery_instance_id: job.id
            for job in terminations
            if job.status is JobStatus.COMPLETED
            for server in job.participating_servers
            if server.recovery_instance_id in existing
        }
        terminated, pending, left_alone, to_terminate = [], [], [], []
        for instance_id in sorted(launched):
            instance = existing.get(instance_id)
            what = f"{label[instance_id]}: {instance_id}"
            if instance is None:
                terminated.append(what)
            elif instance.job_id not in ours or not instance.is_drill:
                left_alone.append(f"{what} was launched by job {instance.job_id}, not by this drill")
            elif instance_id in terminating:
                pending.append(what)
            elif instance_id in ended:
                left_alone.append(f"{what} still exists after DRS's termination job {ended[instance_id]} ended")
            else:
                to_terminate.append(instance_id)
        started = sorted(set(terminating.values()))
        for start in range(0, len(to_terminate), MAX_INSTANCES_PER_TERMINATION):
            batch = to_terminate[start : start + MAX_INSTANCES_PER_TERMINATION]
            # A conflict: someone (another attempt, on-call) terminates some of them: waited for as
            # pending; the next look asks again for the others.
            with contextlib.suppress(JobAlreadyRunning):
                started.append(self._client.terminate_recovery_instances(batch).id)
            pending += [f"{label[instance_id]}: {instance_id}" for instance_id in batch]
        return DrillCleanup(terminated=terminated, pending=pending, left_alone=left_alone, jobs=started)


def _batch_number(job: Job) -> int:
    text = job.tags.get(BATCH_TAG, "")
    return int(text) if text.isdigit() else 0


def _status(jobs: list[Job]) -> ProviderJobStatus:
    """RUNNING until every job is COMPLETED; then FAILED if any server did not launch."""
    if any(job.status is not JobStatus.COMPLETED for job in jobs):
        return ProviderJobStatus.RUNNING
    failed = any(s.launch_status is LaunchStatus.FAILED for job in jobs for s in job.participating_servers)
    return ProviderJobStatus.FAILED if failed else ProviderJobStatus.COMPLETED


def _render(item: JobLogItem, names: dict[str, str], job_number: int, job_count: int) -> str:
    """A short line: `03:08:12 SNAPSHOT_START DBServer`, `03:11:47 LAUNCH_FAILED WebServer: <error>`."""
    data = item.event_data
    line = f"{item.log_date_time:%H:%M:%S} {item.event}"
    if data.source_server_id:
        line += f" {names.get(data.source_server_id, data.source_server_id)}"
    elif job_count > 1:
        line += f" (job {job_number} of {job_count})"
    if data.raw_error:
        line += f": {data.raw_error}"
    return line[:MAX_LINE]


def _failure_lines(
    failed: list[ParticipatingServer], log: list[tuple[int, JobLogItem]], names: dict[str, str]
) -> list[str]:
    """One line per failed server (the first few), with DRS's error from the job log."""
    errors: dict[str, str] = {}
    for _, item in log:
        if item.event in FAILURE_EVENTS and item.event_data.source_server_id and item.event_data.raw_error:
            errors[item.event_data.source_server_id] = item.event_data.raw_error
    lines = []
    for server in failed[:MAX_FAILED_NAMED]:
        sid = server.source_server_id
        error = errors.get(sid, "no error in the job log")
        lines.append(f"Launch FAILED for {names.get(sid, sid)} ({sid}): {error}"[:MAX_LINE])
    if len(failed) > MAX_FAILED_NAMED:
        lines[-1] = f"Launch FAILED for {len(failed) - MAX_FAILED_NAMED + 1} more server(s)"
    return lines
