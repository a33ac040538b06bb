"""The emulated DRS account: its servers, jobs and recovery instances, built from a scenario.

The account only composes its parts; each part does one job: `Inventory` (source servers),
`RecoveryInstances`, `Jobs` (recoveries and terminations on the clock), `RecoveryHosts` (the
EC2 side and landing pages) and `Faults` (which calls misbehave).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from local.cloudendure.clock import Clock
from local.drs.errors import not_found
from local.drs.faults import Faults
from local.drs.fleet import RecoveryHosts
from local.drs.inventory import Inventory, RecoveryInstances
from local.drs.jobs import Jobs
from local.drs.records import Arns, RecoveryInstance
from local.drs.scenario import Scenario
from local.drs.wire import SourceServerRenderer


class Account:
    """Everything the emulator knows about one account. Its lock guards every part."""

    def __init__(self, scenario: Scenario, clock: Clock, hosts: RecoveryHosts, arns: Arns, generation: int = 0) -> None:
        self.scenario = scenario
        self.clock = clock
        self.hosts = hosts
        self.arns = arns
        self.lock = threading.RLock()
        self.faults = Faults(scenario.faults)
        self.inventory = Inventory(scenario.all_servers(), arns, clock.now())
        self.instances = RecoveryInstances()
        id_seed = f"{arns.account_id}/{scenario.name}/{generation}"
        self.renderer = SourceServerRenderer(arns)
        self.renderer.prepare(self.inventory.order)
        self.jobs = Jobs(scenario.job, scenario.quotas, self.inventory, self.instances, hosts, arns, clock, id_seed)

    @contextmanager
    def settled(self) -> Iterator[datetime]:
        """Hold the lock with every due job effect applied; yields the moment the answer describes."""
        with self.lock:
            self.jobs.settle()
            yield self.clock.now()

    def ec2_state(self, instance: RecoveryInstance, now: datetime) -> str:
        """PENDING until the instance boots, SHUTTING-DOWN while a job terminates it, else EC2's state."""
        if now < instance.running_at:
            return "PENDING"
        terminating = self.jobs.jobs.get(instance.terminating_job_id or "")
        if terminating is not None and terminating.status(now) == "STARTED":
            return "SHUTTING-DOWN"
        return self.hosts.state(instance.id)

    def tags_of(self, arn: str) -> dict[str, str]:
        """The tag map of the resource an ARN names (a source server, job or recovery instance)."""
        prefix = f"arn:aws:drs:{self.arns.region}:{self.arns.account_id}:"
        kind, _, resource_id = arn.removeprefix(prefix).partition("/")
        tags: dict[str, str] | None = None
        if not arn.startswith(prefix):
            tags = None
        elif kind == "source-server" and resource_id in self.inventory.servers:
            tags = self.inventory.servers[resource_id].tags
        elif kind == "job" and resource_id in self.jobs.jobs:
            tags = self.jobs.jobs[resource_id].tags
        elif kind == "recovery-instance" and resource_id in self.instances.items:
            tags = self.instances.items[resource_id].tags
        if tags is None:
            raise not_found("RESOURCE", arn)
        return tags

    def shutdown(self, terminate_instances: bool) -> None:
        """Stop serving landing pages; terminate the recovery instances too when the account is
        replaced (a reset), not when the emulator merely stops (local AWS may still be read)."""
        with self.lock:
            if terminate_instances:
                for instance_id in list(self.instances.items):
                    self.hosts.fleet.terminate(instance_id)
            self.hosts.shutdown()
