"""The account's source servers and recovery instances: lookups, filters and listing order."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from local.drs.errors import not_found
from local.drs.records import Arns, RecoveryInstance, SourceServer, stable_hex
from local.drs.scenario import ServerSpec


def hardware_ids(server: SourceServer) -> tuple[str, str]:
    """What DescribeSourceServers' `hardwareId` filter matches: the VMware UUID and the MAC address."""
    digest = stable_hex(server.id, "hardware", length=32)
    mac = ":".join(digest[i : i + 2] for i in range(0, 12, 2))
    return str(uuid.UUID(digest)), mac


class Inventory:
    """The source servers, in the order DescribeSourceServers lists them (the order they were added)."""

    def __init__(self, specs: list[ServerSpec], arns: Arns, now: datetime) -> None:
        self.servers: dict[str, SourceServer] = {}
        self.position: dict[str, int] = {}
        for index, spec in enumerate(specs):
            server_id = "s-" + stable_hex(arns.account_id, "source-server", spec.hostname)
            if server_id in self.servers:
                raise ValueError(f"two servers are named {spec.hostname!r}")
            self.servers[server_id] = SourceServer(
                id=server_id,
                arn=arns.of("source-server", server_id),
                spec=spec,
                added_at=now - timedelta(days=spec.replicating_since_days),
                scenario_started_at=now,
                tags=dict(spec.tags),
            )
            self.position[server_id] = index
        self.order = list(self.servers.values())

    def find(self, server_id: str) -> SourceServer:
        server = self.servers.get(server_id)
        if server is None:
            raise not_found("SOURCE_SERVER", server_id)
        return server

    def by_hostname(self, hostname: str) -> SourceServer:
        return next(server for server in self.order if server.spec.hostname == hostname)

    def select(
        self, ids: list[str] | None, hardware_id: str | None, staging_accounts: list[str] | None
    ) -> list[SourceServer]:
        """The servers matching every given filter, in listing order (unknown ids match nothing)."""
        if ids:
            known = sorted({i for i in ids if i in self.servers}, key=self.position.__getitem__)
            servers = [self.servers[i] for i in known]
        else:
            servers = self.order
        if hardware_id:
            servers = [s for s in servers if hardware_id in hardware_ids(s)]
        if staging_accounts:
            servers = [s for s in servers if s.spec.staging_account_id in staging_accounts]
        return servers


class RecoveryInstances:
    """The recovery instances that exist (terminated ones leave), in the order they were launched."""

    def __init__(self) -> None:
        self.items: dict[str, RecoveryInstance] = {}
        self.sequence: dict[str, int] = {}
        self._launched = 0

    def add(self, instance: RecoveryInstance) -> None:
        self._launched += 1
        self.items[instance.id] = instance
        self.sequence[instance.id] = self._launched

    def remove(self, instance_id: str) -> RecoveryInstance | None:
        self.sequence.pop(instance_id, None)
        return self.items.pop(instance_id, None)

    def find(self, instance_id: str) -> RecoveryInstance:
        instance = self.items.get(instance_id)
        if instance is None:
            raise not_found("RECOVERY_INSTANCE", instance_id)
        return instance

    def select(self, ids: list[str] | None, server_ids: list[str] | None) -> list[RecoveryInstance]:
        instances = [self.items[i] for i in set(ids) if i in self.items] if ids else list(self.items.values())
        if server_ids:
            wanted = set(server_ids)
            instances = [i for i in instances if i.source_server_id in wanted]
        return sorted(instances, key=lambda instance: self.sequence[instance.id])
