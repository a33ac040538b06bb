"""CloudEndure's wire format: the JSON the API answers with, and the request bodies it reads."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from local.cloudendure.clock import iso
from local.cloudendure.errors import ApiError
from local.cloudendure.project import Project
from local.cloudendure.records import CLEANUP, LAUNCH_TYPES, Job, Machine, PointInTime, Replica, stable_id

JOB_TYPES = {**LAUNCH_TYPES, CLEANUP: CLEANUP}
TARGET_REGION = stable_id("region", "aws-eu-west-1")
# CloudEndure's steps of initial sync, in order (../shared/docs/cloudendure-api.md).
INITIATION_STEPS = (
    "WAITING_TO_INITIATE_REPLICATION",
    "CREATING_FIREWALL_RULES",
    "CREATING_REPLICATION_SERVER",
    "BOOTING_REPLICATION_SERVER",
    "RESOLVING_MANAGEMENT_SERVER_ADDRESS",
    "AUTHENTICATING_WITH_MANAGEMENT_SERVER",
    "DOWNLOADING_REPLICATION_SOFTWARE",
    "CREATING_REPLICATION_DISKS",
    "ATTACHING_REPLICATION_DISKS",
    "PAIRING_REPLICATION_SERVER_WITH_AGENT",
    "ESTABLISHING_AGENT_REPLICATOR_COMMUNICATION",
)
# How fast the emulated replication server catches up a backlog, for the next-consistency estimate.
BACKLOG_BYTES_PER_SECOND = 50 * 1024**2


def render_project(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.spec.name,
        "type": project.spec.type,
        "replicationReversed": False,
        "sourceRegion": stable_id("region", "generic"),
        "targetRegion": TARGET_REGION,
        "cloudCredentialsIDs": [stable_id("credentials", project.id)],
        "licensesIDs": [stable_id("license", project.id)],
        "features": {"drTier2": True, "pit": True},
    }


def render_machine(machine: Machine, now: datetime) -> dict[str, Any]:
    """The machine as it stands at `now`: replication progress, lifeCycle dates, its replica if any."""
    spec = machine.spec
    backlog = spec.backlogged_storage_bytes
    info: dict[str, Any] = {
        "totalStorageBytes": spec.total_storage_bytes,
        "replicatedStorageBytes": spec.total_storage_bytes - backlog,
        "rescannedStorageBytes": spec.rescanned_storage_bytes,
        "backloggedStorageBytes": backlog,
        "lastSeenDateTime": iso(now - timedelta(seconds=4)),
        "initiationStates": {  # absent values are omitted, never sent as null
            "items": [
                {
                    "startDateTime": iso(machine.installed_at),
                    "steps": [{"name": step.name, "status": step.status} for step in spec.initiation_steps]
                    if spec.initiation_steps is not None
                    else [{"name": step, "status": "SUCCEEDED"} for step in INITIATION_STEPS],
                }
            ],
        },
    }
    if spec.replication_status == "STARTED":
        info["lastConsistencyDateTime"] = iso(now - timedelta(seconds=spec.lag_seconds))
        info["nextConsistencyEstimatedDateTime"] = iso(now + timedelta(seconds=backlog / BACKLOG_BYTES_PER_SECOND + 10))
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
            **(
                {"lastConsistencyDateTime": info["lastConsistencyDateTime"]}
                if "lastConsistencyDateTime" in info
                else {}
            ),
            **machine.life_cycle,
        },
        "replicationConfiguration": {"volumeEncryptionKey": "", "replicationServerType": "t3.small"},
        "tags": [],
    }
    if machine.replica_id:
        rendered["replica"] = machine.replica_id
    return rendered


def render_points_in_time(points: list[PointInTime]) -> list[dict[str, str]]:
    return [{"id": point.id, "dateTime": iso(point.moment)} for point in points]


def render_job(job: Job, now: datetime) -> dict[str, Any]:
    """The job as it stands at `now`: its log so far, and its end once it has one."""
    status = job.status(now)
    elapsed = job.elapsed(now)
    log = [
        {"message": message, "logDateTime": iso(job.created_at + timedelta(seconds=offset))}
        for offset, message in job.log_plan
        if offset <= elapsed and (job.failed_at is None or job.created_at + timedelta(seconds=offset) <= job.failed_at)
    ]
    end: str | None = None
    if job.failed_at is not None:
        log.append({"message": "Job failed: stopped by an operator", "logDateTime": iso(job.failed_at)})
        end = iso(job.failed_at)
    elif status in ("COMPLETED", "FAILED") and job.end_offset is not None:
        end = iso(job.created_at + timedelta(seconds=job.end_offset))
    rendered: dict[str, Any] = {
        "id": job.id,
        "type": JOB_TYPES.get(job.launch_type, job.launch_type),  # a past job's type is its own
        "status": status,
        "participatingMachines": job.machine_ids,
        "log": log,
        "creationDateTime": iso(job.created_at),
        "initiatedBy": job.initiated_by,
    }
    if end:
        rendered["endDateTime"] = end
    return rendered


def render_replica(replica: Replica) -> dict[str, Any]:
    return {
        "id": replica.id,
        "machine": replica.machine_id,
        "machineCloudId": replica.cloud_id,
        "machineCloudState": "running",
        "publicIps": replica.public_ips,
        "privateIps": replica.private_ips,
        "regionId": TARGET_REGION,
        "pointInTime": replica.point_in_time,
        "name": replica.name,
        "cloudEndureCreationDateTime": iso(replica.created_at),
    }


def read_launch_request(body: Any, project: Project, now: datetime) -> tuple[str, dict[str, str | None]]:
    """A launchMachines body as (launch type, machine id -> point in time id or None); 400 if unusable."""
    if not isinstance(body, dict):
        raise ApiError(400, "Request body must be a JSON object", "BAD_REQUEST")
    launch_type = body.get("launchType")
    if launch_type not in LAUNCH_TYPES:
        raise ApiError(400, f"launchType must be one of {', '.join(LAUNCH_TYPES)}, got {launch_type!r}", "BAD_REQUEST")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "items must be a non-empty list of {machineId, pointInTimeId}", "BAD_REQUEST")
    chosen: dict[str, str | None] = {}
    for item in items:
        machine_id = item.get("machineId") if isinstance(item, dict) else None
        if not isinstance(machine_id, str) or machine_id not in project.machines:
            raise ApiError(400, f"Unknown machine {machine_id!r} in launch request", "BAD_REQUEST")
        if machine_id in chosen:
            raise ApiError(400, f"Machine {machine_id} appears twice in launch request", "BAD_REQUEST")
        point = item.get("pointInTimeId")
        if point is not None and point not in {p.id for p in project.machines[machine_id].points_in_time(now)}:
            raise ApiError(400, f"Point in time {point!r} does not exist for machine {machine_id}", "BAD_REQUEST")
        chosen[machine_id] = point
    return launch_type, chosen


def read_replica_ids(body: Any) -> list[str]:
    """A deleteReplicas body's replica ids; 400 unless a non-empty list of strings."""
    ids = body.get("replicaIDs") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ApiError(400, "replicaIDs must be a non-empty list of replica ids", "BAD_REQUEST")
    return ids
