"""The emulated account's one project and its source machines."""

from __future__ import annotations

from datetime import datetime, timedelta

from local.cloudendure.errors import ApiError
from local.cloudendure.records import Machine, stable_id
from local.cloudendure.scenario import MachineSpec, ProjectSpec


class Project:
    """The project and its machines, in listing order; a lookup of anything else is a 404."""

    def __init__(self, spec: ProjectSpec, machines: list[MachineSpec], now: datetime) -> None:
        self.spec = spec
        self.id = stable_id("project", spec.name)
        self.machines: dict[str, Machine] = {}
        seen: dict[str, int] = {}
        for index, machine in enumerate(machines):
            # A name may repeat (a re-installed agent): the second one is another machine.
            seen[machine.name] = seen.get(machine.name, 0) + 1
            again = [str(seen[machine.name])] if seen[machine.name] > 1 else []
            machine_id = stable_id(self.id, "machine", machine.name, *again)
            self.machines[machine_id] = Machine(
                id=machine_id,
                spec=machine,
                cloud_id=f"src-{index:05d}",
                installed_at=now - timedelta(days=machine.replicating_since_days),
            )
        self.machine_order = list(self.machines)

    def check(self, project_id: str) -> None:
        """404 unless `project_id` is this project's."""
        if project_id != self.id:
            raise ApiError(404, f"Project {project_id} not found", "NOT_FOUND")

    def machine(self, project_id: str, machine_id: str) -> Machine:
        self.check(project_id)
        machine = self.machines.get(machine_id)
        if machine is None:
            raise ApiError(404, f"Machine {machine_id} not found", "NOT_FOUND")
        return machine

    def machine_page(self, offset: int, limit: int) -> list[Machine]:
        """The machines from `offset`, at most `limit` of them, in listing order."""
        return [self.machines[machine_id] for machine_id in self.machine_order[offset : offset + limit]]
