"""DRS's wire format: each record rendered as the JSON members of its shape in the service model.

Only members the model defines are written, and every enumeration value is one of the model's
(the tests walk each answer against the output shape to keep it so).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from local.drs.inventory import hardware_ids
from local.drs.records import (
    Arns,
    Job,
    RecoveryInstance,
    Snapshot,
    SourceServer,
    iso,
    iso_duration,
    stable_hex,
)
from local.drs.scenario import ReplicationState

AGENT_VERSION = "4.8.0.1234.567.8901"
CPU = {"cores": 2, "modelName": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz"}
RAM_BYTES = 8 * 1024**3
# How fast the emulated replication server catches up a backlog or an initial sync, for ETAs.
BYTES_PER_SECOND = 50 * 1024**2
INITIATION_STEPS = (
    "WAIT",
    "CREATE_SECURITY_GROUP",
    "LAUNCH_REPLICATION_SERVER",
    "BOOT_REPLICATION_SERVER",
    "AUTHENTICATE_WITH_SERVICE",
    "DOWNLOAD_REPLICATION_SOFTWARE",
    "CREATE_STAGING_DISKS",
    "ATTACH_STAGING_DISKS",
    "PAIR_REPLICATION_SERVER_WITH_AGENT",
    "CONNECT_AGENT_TO_REPLICATION_SERVER",
    "START_DATA_TRANSFER",
)
REPLICATION_ERRORS = {
    ReplicationState.STALLED: (
        "UNSTABLE_NETWORK",
        "Replication stalled: the network to the staging area drops packets",
    ),
    ReplicationState.DISCONNECTED: ("AGENT_NOT_SEEN", "The replication agent has not been seen by the service"),
}
LAST_LAUNCH_RESULT = {
    "PENDING": "PENDING",
    "IN_PROGRESS": "PENDING",
    "LAUNCHED": "SUCCEEDED",
    "TERMINATED": "SUCCEEDED",
    "FAILED": "FAILED",
}


def _without_none(members: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in members.items() if value is not None}


class SourceServerRenderer:
    """Renders source servers. What never changes for a server (its properties, staging area,
    the replication initiation that finished long ago) is rendered once and reused, so a page of
    1,000 servers costs only the members that move with the clock."""

    def __init__(self, arns: Arns) -> None:
        self.arns = arns
        self._static: dict[str, dict[str, Any]] = {}

    def prepare(self, servers: list[SourceServer]) -> None:
        """Render the unchanging parts ahead of the first request (a 3,000-server estate's take 0.1 s)."""
        for server in servers:
            self._static[server.id] = self._static_parts(server)

    def render(self, server: SourceServer, now: datetime, jobs: dict[str, Job]) -> dict[str, Any]:
        static = self._static.get(server.id) or self._static.setdefault(server.id, self._static_parts(server))
        first_byte = server.added_at + timedelta(minutes=5)
        last_launch, result = None, "NOT_STARTED"
        job = jobs.get(server.last_launch_job_id or "")
        if job is not None:
            status = job.launch_status(job.participants[server.id], now)
            result = LAST_LAUNCH_RESULT[status]
            initiated = {
                "apiCallDateTime": iso(job.created_at),
                "jobID": job.id,
                "type": "DRILL" if job.is_drill else "RECOVERY",
            }
            last_launch = {"initiated": initiated, "status": status}
        life_cycle = {
            **static["lifeCycle"],
            "elapsedReplicationDuration": iso_duration((now - first_byte).total_seconds()),
            "lastSeenByServiceDateTime": iso(server.last_seen(now)),
        }
        if last_launch is not None:
            life_cycle["lastLaunch"] = last_launch
        return _without_none(
            {
                "sourceServerID": server.id,
                "arn": server.arn,
                "tags": dict(server.tags),
                "recoveryInstanceId": server.recovery_instance_id,
                "lastLaunchResult": result,
                "dataReplicationInfo": {**static["dataReplicationInfo"], **_replication_progress(server, now)},
                "lifeCycle": life_cycle,
                "sourceProperties": static["sourceProperties"],
                "stagingArea": static["stagingArea"],
                "replicationDirection": "FAILOVER",
                "agentVersion": AGENT_VERSION,
            }
        )

    def _static_parts(self, server: SourceServer) -> dict[str, Any]:
        spec, state = server.spec, server.spec.state
        vmware_uuid, mac = hardware_ids(server)
        staging = spec.staging_account_id
        done_steps = 5 if state is ReplicationState.INITIATING else len(INITIATION_STEPS)
        steps = [
            {
                "name": name,
                "status": "SUCCEEDED" if k < done_steps else "IN_PROGRESS" if k == done_steps else "NOT_STARTED",
            }
            for k, name in enumerate(INITIATION_STEPS)
        ]
        error = REPLICATION_ERRORS.get(state)
        return {
            "lifeCycle": {
                "addedToServiceDateTime": iso(server.added_at),
                "firstByteDateTime": iso(server.added_at + timedelta(minutes=5)),
            },
            "dataReplicationInfo": _without_none(
                {
                    "dataReplicationState": state.value,
                    "dataReplicationInitiation": {"startDateTime": iso(server.added_at), "steps": steps},
                    "dataReplicationError": None if error is None else {"error": error[0], "rawError": error[1]},
                    "stagingAvailabilityZone": f"{self.arns.region}a",
                }
            ),
            "sourceProperties": {
                "lastUpdatedDateTime": iso(server.scenario_started_at - timedelta(hours=1)),
                "recommendedInstanceType": "t3.large",
                "identificationHints": {
                    "fqdn": f"{spec.hostname.lower()}.corp.example.com",
                    "hostname": spec.hostname,
                    "vmWareUuid": vmware_uuid,
                },
                "networkInterfaces": [{"macAddress": mac, "ips": [_source_ip(server)], "isPrimary": True}],
                "disks": [{"deviceName": "/dev/sda", "bytes": spec.total_storage_bytes}],
                "cpus": [CPU],
                "ramBytes": RAM_BYTES,
                "os": {"fullString": spec.os},
                "supportsNitroInstances": True,
            },
            "stagingArea": _without_none(
                {
                    "status": "EXTENDED" if staging else "NOT_EXTENDED",
                    "stagingAccountID": staging,
                    "stagingSourceServerArn": (
                        None if staging is None else Arns(self.arns.region, staging).of("source-server", server.id)
                    ),
                }
            ),
        }


def _replication_progress(server: SourceServer, now: datetime) -> dict[str, Any]:
    """The replication members that move with the clock: lag, ETA and the disks' bytes."""
    spec, state = server.spec, server.spec.state
    total, backlog = spec.total_storage_bytes, spec.backlogged_storage_bytes
    if state is ReplicationState.INITIATING:
        replicated = 0
    elif state is ReplicationState.INITIAL_SYNC:
        replicated = total * 6 // 10
    else:
        replicated = total
    behind = (total - replicated) + backlog
    lag = server.lag_seconds(now)
    return _without_none(
        {
            "lagDuration": None if lag is None else iso_duration(lag),
            "etaDateTime": iso(now + timedelta(seconds=behind / BYTES_PER_SECOND + 10)) if behind else None,
            "replicatedDisks": [
                {
                    "deviceName": "/dev/sda",
                    "totalStorageBytes": total,
                    "replicatedStorageBytes": replicated,
                    "rescannedStorageBytes": total if state is ReplicationState.RESCAN else 0,
                    "backloggedStorageBytes": backlog,
                }
            ],
        }
    )


def _source_ip(server: SourceServer) -> str:
    number = int(stable_hex(server.id, "ip", length=4), 16)
    return f"192.168.{10 + number % 200}.{1 + number // 200 % 250}"


def render_snapshot(snapshot: Snapshot) -> dict[str, Any]:
    return {
        "snapshotID": snapshot.id,
        "sourceServerID": snapshot.source_server_id,
        "expectedTimestamp": iso(snapshot.expected),
        "timestamp": iso(snapshot.taken),
        "ebsSnapshots": list(snapshot.ebs_snapshot_ids),
    }


def render_job(job: Job, now: datetime) -> dict[str, Any]:
    status = job.status(now)
    end = job.end()
    return _without_none(
        {
            "jobID": job.id,
            "arn": job.arn,
            "type": job.type,
            "initiatedBy": job.initiated_by,
            "creationDateTime": iso(job.created_at),
            "endDateTime": iso(end) if status == "COMPLETED" and end is not None else None,
            "status": status,
            "participatingServers": [
                _without_none(
                    {
                        "sourceServerID": participant.source_server_id,
                        "recoveryInstanceID": participant.recovery_instance_id,
                        "launchStatus": job.launch_status(participant, now),
                    }
                )
                for participant in job.participants.values()
            ],
            "tags": job.tags,
        }
    )


def render_log_items(job: Job, now: datetime) -> list[dict[str, Any]]:
    """The job's log items up to `now`, oldest first."""
    elapsed = job.elapsed(now)
    items = []
    for event in job.log:
        if event.offset > elapsed:
            break
        participant = job.participants.get(event.participant or "")
        data: dict[str, Any] = {}
        if participant is not None:
            data["sourceServerID"] = participant.source_server_id
            if event.event.startswith("CONVERSION_"):
                data["conversionServerID"] = "i-" + stable_hex(job.id, "converter", participant.source_server_id)
            if event.event == "LAUNCH_START" and participant.recovery_instance_id and job.type == "LAUNCH":
                data["targetInstanceID"] = participant.recovery_instance_id
        if event.raw_error:
            data["rawError"] = event.raw_error
        item: dict[str, Any] = {
            "logDateTime": iso(job.created_at + timedelta(seconds=event.offset)),
            "event": event.event,
        }
        if data:
            item["eventData"] = data
        items.append(item)
    return items


def render_recovery_instance(
    instance: RecoveryInstance, server: SourceServer | None, ec2_state: str, now: datetime
) -> dict[str, Any]:
    hostname = server.spec.hostname if server is not None else instance.id
    total = server.spec.total_storage_bytes if server is not None else 20 * 1024**3
    os_name = server.spec.os if server is not None else "Linux"
    return {
        "ec2InstanceID": instance.id,
        "ec2InstanceState": ec2_state,
        "jobID": instance.job_id,
        "recoveryInstanceID": instance.id,
        "sourceServerID": instance.source_server_id,
        "arn": instance.arn,
        "tags": instance.tags,
        "recoveryInstanceProperties": {
            "lastUpdatedDateTime": iso(instance.running_at),
            "identificationHints": {"hostname": hostname, "awsInstanceID": instance.id},
            "networkInterfaces": [
                {
                    "macAddress": "0a:"
                    + ":".join(stable_hex(instance.id, "mac", length=10)[i : i + 2] for i in range(0, 10, 2)),
                    "ips": [instance.private_ip, instance.public_ip],
                    "isPrimary": True,
                }
            ],
            "disks": [
                {
                    "internalDeviceName": "/dev/sda",
                    "bytes": total,
                    # The model caps EbsVolumeID at 19 characters: the legacy 8-digit form fits.
                    "ebsVolumeID": "vol-" + stable_hex(instance.id, "volume", length=8),
                }
            ],
            "cpus": [CPU],
            "ramBytes": RAM_BYTES,
            "os": {"fullString": os_name},
        },
        "pointInTimeSnapshotDateTime": iso(instance.point_in_time),
        "isDrill": instance.is_drill,
        "originEnvironment": "ON_PREMISES",
        "agentVersion": AGENT_VERSION,
    }


def render_launch_configuration(server: SourceServer) -> dict[str, Any]:
    return {
        "sourceServerID": server.id,
        "name": server.spec.hostname,
        "ec2LaunchTemplateID": "lt-" + stable_hex(server.id, "launch-template"),
        "launchDisposition": "STARTED",
        "targetInstanceTypeRightSizingMethod": "BASIC",
        "copyPrivateIp": False,
        "copyTags": True,
        "licensing": {"osByol": True},
        "postLaunchEnabled": False,
    }
