"""The emulated CloudEndure account: one project, its machines, jobs, replicas and sessions.

State is evaluated lazily against the clock: a job's status, its log and the replicas it
creates are derived from how much emulated time has passed since the launch, so nothing runs
in the background and a test that moves the clock by hand sees exactly the same behaviour as
the drill that lets it run.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from local.cloudendure.clock import Clock, iso
from local.cloudendure.landing import LandingPages
from local.cloudendure.scenario import FaultKind, FaultSpec, JobOutcome, MachineSpec, Scenario

NAMESPACE = uuid.UUID("6f1c2b1e-5d7a-4c1e-9a59-0c1d3e5f7a90")
LAUNCH_TYPES = {
    "RECOVERY": "RECOVERY_LAUNCH",
    "TEST": "TEST_LAUNCH",
    "CUTOVER": "CUTOVER_LAUNCH",
    "DEBUG": "DEBUG_LAUNCH",
}
JOB_TYPES = {**LAUNCH_TYPES, "CLEANUP": "CLEANUP"}
LIFECYCLE_FIELD = {
    "RECOVERY": "lastRecoveryLaunchDateTime",
    "TEST": "lastTestLaunchDateTime",
    "CUTOVER": "lastCutoverDateTime",
    "DEBUG": "lastTestLaunchDateTime",
}
PER_MACHINE_LOG_LIMIT = 50
FAILED_LOGINS_BEFORE_LOCKOUT = 5
LOCKOUT = timedelta(seconds=60)


class ApiError(Exception):
    """An API error answer: HTTP status plus CloudEndure's `{"message", "code"}` body."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


@dataclass
class Session:
    session_id: str
    xsrf_token: str
    expires_at: datetime


@dataclass
class Machine:
    id: str
    spec: MachineSpec
    cloud_id: str
    installed_at: datetime
    replica_id: str | None = None
    life_cycle: dict[str, str] = field(default_factory=dict)


@dataclass
class Replica:
    id: str
    machine_id: str
    cloud_id: str
    public_ips: list[str]
    private_ips: list[str]
    point_in_time: str
    name: str
    created_at: datetime


@dataclass
class Job:
    id: str
    launch_type: str
    machine_ids: list[str]
    point_in_time_ids: dict[str, str | None]
    created_at: datetime
    log_plan: list[tuple[float, str]]
    end_offset: float | None  # emulated seconds after creation; None = never ends (stuck)
    final_status: str  # COMPLETED or FAILED once end_offset has passed
    pending_seconds: float
    initiated_by: str
    failed_at: datetime | None = None
    finalized: bool = False


@dataclass
class ActiveFault:
    spec: FaultSpec
    remaining: int


class Account:
    """Everything the emulator knows, guarded by one lock."""

    def __init__(self, scenario: Scenario, clock: Clock, api_token: str, landing: LandingPages) -> None:
        self.scenario = scenario
        self.clock = clock
        self.api_token = api_token
        self.landing = landing
        self.lock = threading.RLock()
        self.sessions: dict[str, Session] = {}
        self.failed_logins: list[datetime] = []
        self.jobs: dict[str, Job] = {}
        self.replicas: dict[str, Replica] = {}
        self.faults: list[ActiveFault] = [ActiveFault(spec, spec.count) for spec in scenario.faults]
        self.calls: dict[str, int] = {}
        self.launches_accepted = 0
        self.session_ttl = timedelta(seconds=scenario.session_ttl_seconds)
        self.project_id = stable_id("project", scenario.project.name)
        now = clock.now()
        self.machines: dict[str, Machine] = {}
        for index, spec in enumerate(scenario.all_machines()):
            machine_id = stable_id(self.project_id, "machine", spec.name)
            self.machines[machine_id] = Machine(
                id=machine_id,
                spec=spec,
                cloud_id=f"src-{index:05d}",
                installed_at=now - timedelta(days=spec.replicating_since_days),
            )
        self.machine_order = list(self.machines)
        self._next_ip = 0

    # ----------------------------------------------------------------- sessions
    def login(self, body: Any) -> Session:
        now = self.clock.now()
        with self.lock:
            self.failed_logins = [t for t in self.failed_logins if now - t < LOCKOUT]
            if len(self.failed_logins) >= FAILED_LOGINS_BEFORE_LOCKOUT:
                raise ApiError(429, "Too many failed login attempts, try again later", "TOO_MANY_REQUESTS")
            token = body.get("userApiToken") if isinstance(body, dict) else None
            if not isinstance(token, str) or not secrets.compare_digest(token, self.api_token):
                self.failed_logins.append(now)
                raise ApiError(401, "Invalid credentials", "UNAUTHORIZED")
            if self.scenario.license_expired:
                raise ApiError(402, "No active license for this account", "LICENSE_EXPIRED")
            session = Session(secrets.token_hex(24), secrets.token_urlsafe(24), now + self.session_ttl)
            self.sessions[session.session_id] = session
            return session

    def authenticate(self, session_id: str | None, xsrf_header: str | None) -> None:
        with self.lock:
            session = self.sessions.get(session_id or "")
            if session is None or self.clock.now() >= session.expires_at:
                self.sessions.pop(session_id or "", None)
                raise ApiError(401, "Session expired or not logged in", "UNAUTHORIZED")
            if not xsrf_header or not secrets.compare_digest(xsrf_header.strip('"'), session.xsrf_token):
                raise ApiError(401, "Missing or wrong X-XSRF-TOKEN header", "UNAUTHORIZED")

    def logout(self, session_id: str | None) -> None:
        with self.lock:
            self.sessions.pop(session_id or "", None)

    def expire_sessions(self) -> int:
        with self.lock:
            count = len(self.sessions)
            self.sessions.clear()
            return count

    # ------------------------------------------------------------------- faults
    def take_fault(self, route: str) -> FaultSpec | None:
        with self.lock:
            self.calls[route] = self.calls.get(route, 0) + 1
            for fault in self.faults:
                if fault.remaining > 0 and fault.spec.route in (route, "*"):
                    fault.remaining -= 1
                    return fault.spec
            return None

    def peek_fault(self, route: str) -> FaultKind | None:
        """The kind of the fault the next call to `route` will meet, without taking it."""
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and fault.spec.route in (route, "*"):
                    return fault.spec.kind
            return None

    def add_fault(self, spec: FaultSpec) -> None:
        with self.lock:
            self.faults.append(ActiveFault(spec, spec.count))

    # ----------------------------------------------------------------- projects
    def project(self, project_id: str) -> dict[str, Any]:
        if project_id != self.project_id:
            raise ApiError(404, f"Project {project_id} not found", "NOT_FOUND")
        return {
            "id": self.project_id,
            "name": self.scenario.project.name,
            "type": self.scenario.project.type,
            "replicationReversed": False,
            "sourceRegion": stable_id("region", "generic"),
            "targetRegion": stable_id("region", "aws-eu-west-1"),
            "cloudCredentialsIDs": [stable_id("credentials", self.project_id)],
            "licensesIDs": [stable_id("license", self.project_id)],
            "features": {"drTier2": True, "pit": True},
        }

    # ----------------------------------------------------------------- machines
    def machine(self, project_id: str, machine_id: str) -> Machine:
        self.project(project_id)
        machine = self.machines.get(machine_id)
        if machine is None:
            raise ApiError(404, f"Machine {machine_id} not found", "NOT_FOUND")
        return machine

    def machine_page(self, project_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        self.project(project_id)
        with self.lock:
            self._advance()
            now = self.clock.now()
            return [self.render_machine(self.machines[mid], now) for mid in self.machine_order[offset : offset + limit]]

    def render_machine(self, machine: Machine, now: datetime) -> dict[str, Any]:
        spec = machine.spec
        backlog = spec.backlogged_storage_bytes
        info: dict[str, Any] = {
            "totalStorageBytes": spec.total_storage_bytes,
            "replicatedStorageBytes": spec.total_storage_bytes - backlog,
            "rescannedStorageBytes": spec.rescanned_storage_bytes,
            "backloggedStorageBytes": backlog,
            "lastSeenDateTime": iso(now - timedelta(seconds=4)),
            "initiationStates": {
                "items": [
                    {
                        "startDateTime": iso(machine.installed_at),
                        "steps": [
                            {"name": step, "status": "SUCCEEDED"}
                            for step in (
                                "WAITING_TO_INITIATE_REPLICATION",
                                "CREATING_REPLICATION_SERVER",
                                "CONNECTING_AGENT_TO_REPLICATION_SERVER",
                                "STARTING_DATA_TRANSFER",
                            )
                        ],
                    }
                ],
                "estimatedNextAttemptDateTime": None,
            },
        }
        if spec.replication_status == "STARTED":
            info["lastConsistencyDateTime"] = iso(now - timedelta(seconds=spec.lag_seconds))
            info["nextConsistencyEstimatedDateTime"] = iso(now + timedelta(seconds=backlog / (50 * 1024**2) + 10))
        rendered: dict[str, Any] = {
            "id": machine.id,
            "sourceProperties": {
                "name": spec.name,
                "machineCloudId": machine.cloud_id,
                "os": spec.os,
                "installationDateTime": iso(machine.installed_at),
                "cpu": [{"cores": 2, "modelName": "Intel(R) Xeon(R) CPU"}],
                "memory": 8 * 1024**3,
                "disks": [{"name": "/dev/sda", "size": spec.total_storage_bytes}],
                "network": [{"ips": [f"192.168.10.{uuid.UUID(machine.id).int % 200 + 10}"], "name": "eth0"}],
            },
            "replicationStatus": spec.replication_status,
            "replicationInfo": info,
            "isAgentInstalled": True,
            "lifeCycle": {
                "agentInstallationDateTime": iso(machine.installed_at),
                "lastConsistencyDateTime": info.get("lastConsistencyDateTime"),
                **machine.life_cycle,
            },
            "replicationConfiguration": {"volumeEncryptionKey": "", "replicationServerType": "t3.small"},
            "tags": [],
        }
        if machine.replica_id:
            rendered["replica"] = machine.replica_id
        return rendered

    # ----------------------------------------------------------- points in time
    def points_in_time(self, project_id: str, machine_id: str) -> list[dict[str, str]]:
        """The console's retention: every 10 minutes for the last hour, hourly for the last day,
        daily for the last month; never before replication started. Oldest first."""
        machine = self.machine(project_id, machine_id)
        now = self.clock.now()
        if machine.spec.replication_status != "STARTED":
            return []
        newest = now - timedelta(seconds=machine.spec.lag_seconds)
        ten = newest.replace(minute=newest.minute - newest.minute % 10, second=0, microsecond=0)
        moments: set[datetime] = {
            ten - timedelta(minutes=10 * k)
            for k in range(6)
            if now - (ten - timedelta(minutes=10 * k)) < timedelta(hours=1)
        }
        hour = newest.replace(minute=0, second=0, microsecond=0)
        moments |= {hour - timedelta(hours=k) for k in range(1, 24)}
        day = newest.replace(hour=0, minute=0, second=0, microsecond=0)
        moments |= {day - timedelta(days=k) for k in range(1, 31)}
        moments = {m for m in moments if machine.installed_at <= m <= newest}
        return [{"id": stable_id(machine.id, "pit", iso(m)), "dateTime": iso(m)} for m in sorted(moments)]

    # ------------------------------------------------------------------ launches
    def launch(self, project_id: str, body: Any, initiated_by: str) -> dict[str, Any]:
        self.project(project_id)
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be a JSON object", "BAD_REQUEST")
        launch_type = body.get("launchType")
        if launch_type not in LAUNCH_TYPES:
            raise ApiError(
                400, f"launchType must be one of {', '.join(LAUNCH_TYPES)}, got {launch_type!r}", "BAD_REQUEST"
            )
        items = body.get("items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, "items must be a non-empty list of {machineId, pointInTimeId}", "BAD_REQUEST")
        with self.lock:
            self._advance()
            chosen: dict[str, str | None] = {}
            for item in items:
                machine_id = item.get("machineId") if isinstance(item, dict) else None
                if not isinstance(machine_id, str) or machine_id not in self.machines:
                    raise ApiError(400, f"Unknown machine {machine_id!r} in launch request", "BAD_REQUEST")
                if machine_id in chosen:
                    raise ApiError(400, f"Machine {machine_id} appears twice in launch request", "BAD_REQUEST")
                point = item.get("pointInTimeId")
                if point is not None:
                    valid = {p["id"] for p in self.points_in_time(project_id, machine_id)}
                    if point not in valid:
                        raise ApiError(
                            400, f"Point in time {point!r} does not exist for machine {machine_id}", "BAD_REQUEST"
                        )
                chosen[machine_id] = point
            if self.scenario.license_expired:
                raise ApiError(402, "The project's license has expired", "LICENSE_EXPIRED")
            busy = [
                job
                for job in self.jobs.values()
                if self._status(job) in ("PENDING", "STARTED") and set(job.machine_ids) & chosen.keys()
            ]
            if busy:
                raise ApiError(409, f"Job {busy[0].id} is already running for some of these machines", "CONFLICT")
            job = self._new_job(launch_type, chosen, initiated_by)
            self.jobs[job.id] = job
            self.launches_accepted += 1
            for machine_id in chosen:
                self.machines[machine_id].life_cycle[LIFECYCLE_FIELD[launch_type]] = iso(job.created_at)
            return self.render_job(job)

    def _new_job(self, launch_type: str, chosen: dict[str, str | None], initiated_by: str) -> Job:
        spec = self.scenario.job
        names = [self.machines[mid].spec.name for mid in chosen]
        converters = spec.converters_finished_at_seconds
        duration = spec.duration_seconds
        plan: list[tuple[float, str]] = [
            (0.0, f"{LAUNCH_TYPES[launch_type]} job started for {len(names)} machine(s)"),
            (1.0, "Cleaning up resources created by previous launches"),
        ]
        if len(names) <= PER_MACHINE_LOG_LIMIT:
            plan += [
                (spec.pending_seconds, f"Taking snapshot of replicated volumes of machine {name}") for name in names
            ]
        else:
            plan.append((spec.pending_seconds, f"Taking snapshots of replicated volumes of {len(names)} machines"))
        plan += [
            (converters * 0.25, "Finished taking snapshots"),
            (converters * 0.4, "Starting converters"),
        ]
        end_offset: float | None = duration
        final_status = "COMPLETED"
        if spec.outcome is JobOutcome.STUCK:
            end_offset = None
        else:
            plan.append((converters, "Finished starting converters"))
            after = [
                (converters + (duration - converters) * (i + 1) / (len(names) + 2), f"Launching target machine {name}")
                for i, name in enumerate(names[:PER_MACHINE_LOG_LIMIT])
            ]
            after += [
                (
                    duration,
                    f"Failed to launch target machine {self.machines[mid].spec.name}: instance did not pass status checks",
                )
                for mid in chosen
                if self.machines[mid].spec.launch_fails
            ]
            plan += after
            if spec.outcome is JobOutcome.FAILED:
                final_status = "FAILED"
                plan = [(t, m) for t, m in plan if t < duration]
                plan += [(duration, spec.failure_message), (duration, "Job failed")]
            else:
                plan += [(duration, f"Finished launching {len(names)} target machine(s)"), (duration, "Job finished")]
        plan.sort(key=lambda entry: entry[0])
        return Job(
            id=str(uuid.uuid4()),
            launch_type=launch_type,
            machine_ids=list(chosen),
            point_in_time_ids=chosen,
            created_at=self.clock.now(),
            log_plan=plan,
            end_offset=end_offset,
            final_status=final_status,
            pending_seconds=spec.pending_seconds,
            initiated_by=initiated_by,
        )

    # ---------------------------------------------------------------------- jobs
    def _elapsed(self, job: Job) -> float:
        return (self.clock.now() - job.created_at).total_seconds()

    def _status(self, job: Job) -> str:
        if job.failed_at is not None:
            return "FAILED"
        elapsed = self._elapsed(job)
        if job.end_offset is not None and elapsed >= job.end_offset:
            return job.final_status
        return "PENDING" if elapsed < job.pending_seconds else "STARTED"

    def render_job(self, job: Job) -> dict[str, Any]:
        status = self._status(job)
        elapsed = self._elapsed(job)
        log = [
            {"message": message, "logDateTime": iso(job.created_at + timedelta(seconds=offset))}
            for offset, message in job.log_plan
            if offset <= elapsed
            and (job.failed_at is None or job.created_at + timedelta(seconds=offset) <= job.failed_at)
        ]
        end: str | None = None
        if job.failed_at is not None:
            log.append({"message": "Job failed: stopped by an operator", "logDateTime": iso(job.failed_at)})
            end = iso(job.failed_at)
        elif status in ("COMPLETED", "FAILED") and job.end_offset is not None:
            end = iso(job.created_at + timedelta(seconds=job.end_offset))
        rendered: dict[str, Any] = {
            "id": job.id,
            "type": JOB_TYPES[job.launch_type],
            "status": status,
            "participatingMachines": job.machine_ids,
            "log": log,
            "creationDateTime": iso(job.created_at),
            "initiatedBy": job.initiated_by,
        }
        if end:
            rendered["endDateTime"] = end
        return rendered

    def job(self, project_id: str, job_id: str) -> dict[str, Any]:
        self.project(project_id)
        with self.lock:
            self._advance()
            job = self.jobs.get(job_id)
            if job is None:
                raise ApiError(404, f"Job {job_id} not found", "NOT_FOUND")
            return self.render_job(job)

    def job_page(self, project_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        self.project(project_id)
        with self.lock:
            self._advance()
            ordered = sorted(self.jobs.values(), key=lambda job: job.created_at)
            return [self.render_job(job) for job in ordered[offset : offset + limit]]

    def fail_running_jobs(self) -> int:
        with self.lock:
            self._advance()
            running = [job for job in self.jobs.values() if self._status(job) in ("PENDING", "STARTED")]
            for job in running:
                job.failed_at = self.clock.now()
                job.finalized = True
            return len(running)

    def _advance(self) -> None:
        """Create the replicas of every job that has completed since the last look."""
        for job in self.jobs.values():
            if job.finalized or self._status(job) != "COMPLETED":
                continue
            job.finalized = True
            for machine_id in job.machine_ids:
                if not self.machines[machine_id].spec.launch_fails:
                    self._create_replica(self.machines[machine_id], job)

    # ------------------------------------------------------------------ replicas
    def _allocate_ip(self) -> str:
        self._next_ip += 1
        k = self._next_ip
        return f"127.0.{1 + k // 250}.{1 + k % 250}"

    def _create_replica(self, machine: Machine, job: Job) -> None:
        if machine.replica_id:  # a launch replaces what an earlier launch created for this source
            self._remove_replica(machine.replica_id)
        replica_id = str(uuid.uuid4())
        public_ip = self._allocate_ip()
        replica = Replica(
            id=replica_id,
            machine_id=machine.id,
            cloud_id="i-" + secrets.token_hex(9)[:17],
            public_ips=[public_ip] if machine.spec.has_public_ip else [],
            private_ips=[f"10.0.{1 + self._next_ip // 250}.{1 + self._next_ip % 250}"],
            point_in_time=job.point_in_time_ids.get(machine.id) or "latest",
            name=f"{machine.spec.name} ({job.launch_type.lower()})",
            created_at=job.created_at + timedelta(seconds=job.end_offset or 0),
        )
        self.replicas[replica_id] = replica
        machine.replica_id = replica_id
        if machine.spec.webserver and machine.spec.has_public_ip:
            self.landing.serve(replica_id, public_ip, hostname=f"{machine.spec.name}-recovered")

    def _remove_replica(self, replica_id: str) -> None:
        replica = self.replicas.pop(replica_id, None)
        if replica is None:
            return
        self.landing.stop(replica_id)
        machine = self.machines.get(replica.machine_id)
        if machine is not None and machine.replica_id == replica_id:
            machine.replica_id = None

    def replica(self, project_id: str, replica_id: str) -> dict[str, Any]:
        self.project(project_id)
        with self.lock:
            self._advance()
            replica = self.replicas.get(replica_id)
            if replica is None:
                raise ApiError(404, f"Replica {replica_id} not found", "NOT_FOUND")
            return {
                "id": replica.id,
                "machine": replica.machine_id,
                "machineCloudId": replica.cloud_id,
                "machineCloudState": "running",
                "publicIps": replica.public_ips,
                "privateIps": replica.private_ips,
                "regionId": stable_id("region", "aws-eu-west-1"),
                "pointInTime": replica.point_in_time,
                "name": replica.name,
                "cloudEndureCreationDateTime": iso(replica.created_at),
            }

    def delete_replicas(self, project_id: str, body: Any, initiated_by: str) -> dict[str, Any]:
        self.project(project_id)
        ids = body.get("replicaIDs") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise ApiError(400, "replicaIDs must be a non-empty list of replica ids", "BAD_REQUEST")
        with self.lock:
            unknown = [i for i in ids if i not in self.replicas]
            if unknown:
                raise ApiError(400, f"Unknown replica ids: {', '.join(unknown)}", "BAD_REQUEST")
            machines = [self.replicas[i].machine_id for i in ids]
            for replica_id in ids:
                self._remove_replica(replica_id)
            now = self.clock.now()
            job = Job(
                id=str(uuid.uuid4()),
                launch_type="CLEANUP",
                machine_ids=machines,
                point_in_time_ids={},
                created_at=now,
                log_plan=[(0.0, f"Cleaned up {len(ids)} target machine(s)")],
                end_offset=0.0,
                final_status="COMPLETED",
                pending_seconds=0.0,
                initiated_by=initiated_by,
                finalized=True,
            )
            self.jobs[job.id] = job
            return self.render_job(job)

    def shutdown(self) -> None:
        self.landing.stop_all()
