"""Where recovery instances really run: a pluggable EC2 port, and the hosts on top of it.

DRS does not report a recovery instance's public address (its network interfaces list addresses
without saying which is public): a client takes it from EC2's `describe_instances`. So the
emulator launches each recovery instance into an `InstanceFleet`: in memory when it runs alone,
in moto's in-process EC2 (`local.drs.ec2.MotoEc2Fleet`) when it runs beside local AWS, where the
pipeline's EC2 client finds the instance and its `PublicIpAddress`.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from local.cloudendure.landing import LandingPages
from local.drs.records import stable_hex


@dataclass(frozen=True)
class InstanceRequest:
    """One recovery instance to run: its Name, addresses and tags."""

    hostname: str
    public_ip: str
    private_ip: str
    tags: dict[str, str]


class InstanceFleet(Protocol):
    """The EC2 side of recovery instances."""

    def launch(self, requests: list[InstanceRequest]) -> list[str]:
        """Run these instances (together: a job's servers that launch in the same moment); returns
        their EC2 instance ids (`i-...`) in order."""
        ...

    def state(self, instance_id: str) -> str:
        """The instance's state as DRS reports it (`RUNNING`, `STOPPED`, ..., `NOT_FOUND`)."""
        ...

    def terminate(self, instance_id: str) -> None:
        """Terminate the instance (nothing happens if it is already gone)."""
        ...


class InMemoryFleet:
    """A fleet for standalone use: instance ids and states in a dictionary."""

    def __init__(self) -> None:
        self.instances: dict[str, tuple[str, str, str]] = {}  # id -> (hostname, public ip, state)
        self._lock = threading.Lock()

    def launch(self, requests: list[InstanceRequest]) -> list[str]:
        launched = []
        with self._lock:
            for request in requests:
                instance_id = "i-" + stable_hex("recovery-instance", str(len(self.instances)))
                self.instances[instance_id] = (request.hostname, request.public_ip, "RUNNING")
                launched.append(instance_id)
        return launched

    def state(self, instance_id: str) -> str:
        with self._lock:
            found = self.instances.get(instance_id)
            return "NOT_FOUND" if found is None else found[2]

    def terminate(self, instance_id: str) -> None:
        with self._lock:
            if instance_id in self.instances:
                hostname, public_ip, _ = self.instances[instance_id]
                self.instances[instance_id] = (hostname, public_ip, "TERMINATED")


@dataclass(frozen=True)
class HostRequest:
    """A source server's recovery instance to launch."""

    hostname: str
    webserver: bool
    tags: dict[str, str]


@dataclass(frozen=True)
class LaunchedHost:
    instance_id: str
    public_ip: str
    private_ip: str


class RecoveryHosts:
    """Gives each recovery instance loopback addresses, launches it into the fleet and, for the
    scenario's webserver, serves the landing page on its public address (`LandingPages`)."""

    def __init__(self, fleet: InstanceFleet, landing: LandingPages, addresses: Iterator[int] | None = None) -> None:
        self.fleet = fleet
        self.landing = landing
        # Shared by the accounts of one emulator: a reset never hands out an address whose old
        # landing page may still be closing.
        self._addresses = addresses or itertools.count(1)
        self._lock = threading.Lock()

    def launch(self, hosts: list[HostRequest]) -> list[LaunchedHost]:
        """Launch these hosts into the fleet in one call (a large job's servers often launch in
        the same moment, and one EC2 call for many instances is far cheaper than many calls)."""
        requests = [InstanceRequest(host.hostname, *self._allocate(), host.tags) for host in hosts]
        instance_ids = self.fleet.launch(requests) if requests else []
        for host, request, instance_id in zip(hosts, requests, instance_ids, strict=True):
            if host.webserver:
                self.landing.serve(instance_id, request.public_ip, hostname=f"{host.hostname}-recovered")
        return [
            LaunchedHost(instance_id, request.public_ip, request.private_ip)
            for request, instance_id in zip(requests, instance_ids, strict=True)
        ]

    def terminate(self, instance_id: str) -> None:
        self.fleet.terminate(instance_id)
        self._in_background(self.landing.stop, instance_id)

    def state(self, instance_id: str) -> str:
        return self.fleet.state(instance_id)

    def shutdown(self) -> None:
        self._in_background(self.landing.stop_all)

    @staticmethod
    def _in_background(stop: Callable[..., None], *args: str) -> None:
        """Stopping a landing server waits out its poll interval (half a second): do not make the
        API call that terminated the instance wait for it."""
        threading.Thread(target=stop, args=args, name="landing-stop", daemon=True).start()

    def _allocate(self) -> tuple[str, str]:
        """A fresh loopback public address (a landing page can bind it; 127.1.x.y, apart from the
        CloudEndure emulator's 127.0.x.y) and a private one."""
        with self._lock:
            k = next(self._addresses)
        return f"127.1.{k // 250}.{1 + k % 250}", f"10.1.{k // 250}.{1 + k % 250}"
