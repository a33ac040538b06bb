"""The target machines that launches create: their addresses, landing pages and removal."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from local.cloudendure.errors import ApiError
from local.cloudendure.landing import LandingPages
from local.cloudendure.records import Job, Machine, Replica


class Replicas:
    """Creates, finds and removes replicas, keeping each source machine's `replica_id` in step.

    Not locked itself: only `Jobs` changes replicas, and it does so under its own lock.
    """

    def __init__(self, machines: dict[str, Machine], landing: LandingPages) -> None:
        self.machines = machines
        self.landing = landing
        self._replicas: dict[str, Replica] = {}
        self._addresses_allocated = 0

    def find(self, replica_id: str) -> Replica:
        replica = self._replicas.get(replica_id)
        if replica is None:
            raise ApiError(404, f"Replica {replica_id} not found", "NOT_FOUND")
        return replica

    def all(self) -> list[Replica]:
        """Every replica that exists now."""
        return list(self._replicas.values())

    def create(self, machine: Machine, job: Job) -> None:
        """The target `job` launched for `machine`; the recovered webserver's page starts answering."""
        created_at = job.created_at + timedelta(seconds=job.end_offset or 0)
        point_in_time = job.point_in_time_ids.get(machine.id) or "latest"
        self._create(machine, job.launch_type, point_in_time, created_at, job.id)

    def create_earlier(self, machine: Machine, launch_type: str, created_at: datetime) -> None:
        """A target that a launch before the scenario began left behind (an earlier drill's)."""
        self._create(machine, launch_type, "latest", created_at)

    def _create(
        self, machine: Machine, launch_type: str, point_in_time: str, created_at: datetime, job_id: str | None = None
    ) -> None:
        if machine.replica_id:  # a launch replaces what an earlier launch created for this source
            self._remove(machine.replica_id)
        public_ip, private_ip = self._allocate_addresses()
        replica = Replica(
            id=str(uuid.uuid4()),
            machine_id=machine.id,
            cloud_id="i-" + secrets.token_hex(9)[:17],
            public_ips=[public_ip] if machine.spec.has_public_ip else [],
            private_ips=[private_ip],
            point_in_time=point_in_time,
            name=f"{machine.spec.name} ({launch_type.lower()})",
            created_at=created_at,
            job_id=job_id,
        )
        self._replicas[replica.id] = replica
        machine.replica_id = replica.id
        if (machine.spec.webserver or machine.spec.serves) and machine.spec.has_public_ip:
            self.landing.serve(replica.id, public_ip, hostname=f"{machine.spec.name}-recovered")

    def remove_all(self, replica_ids: list[str]) -> list[str]:
        """Remove the replicas (all or, if one is unknown, none); returns their source machines' ids."""
        unknown = [replica_id for replica_id in replica_ids if replica_id not in self._replicas]
        if unknown:
            raise ApiError(400, f"Unknown replica ids: {', '.join(unknown)}", "BAD_REQUEST")
        machine_ids = [self._replicas[replica_id].machine_id for replica_id in replica_ids]
        for replica_id in replica_ids:
            self._remove(replica_id)
        return machine_ids

    def shutdown(self) -> None:
        self.landing.stop_all()

    def _allocate_addresses(self) -> tuple[str, str]:
        """A fresh loopback public address (a landing page can bind it) and a private one."""
        self._addresses_allocated += 1
        k = self._addresses_allocated
        return f"127.0.{1 + k // 250}.{1 + k % 250}", f"10.0.{1 + k // 250}.{1 + k % 250}"

    def _remove(self, replica_id: str) -> None:
        replica = self._replicas.pop(replica_id, None)
        if replica is None:
            return
        self.landing.stop(replica_id)
        machine = self.machines.get(replica.machine_id)
        if machine is not None and machine.replica_id == replica_id:
            machine.replica_id = None
