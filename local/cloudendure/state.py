"""The emulated CloudEndure account: one project, its machines, jobs, replicas and sessions.

The account only composes its parts; each part does one job:
`Sessions` (who may call), `Faults` (which calls misbehave), `Project` (the machines),
`Jobs` (launches and their progress on the clock), `Replicas` (what launches create) and
`Resources` (each API route's answer, in CloudEndure's wire format).
"""

from __future__ import annotations

from datetime import timedelta

from local.cloudendure.clock import Clock
from local.cloudendure.faults import Faults
from local.cloudendure.jobs import Jobs
from local.cloudendure.landing import LandingPages
from local.cloudendure.project import Project
from local.cloudendure.records import Machine
from local.cloudendure.replicas import Replicas
from local.cloudendure.resources import Resources
from local.cloudendure.scenario import Scenario
from local.cloudendure.sessions import Sessions


class Account:
    """Everything the emulator knows about one account, built from a scenario."""

    def __init__(self, scenario: Scenario, clock: Clock, api_token: str, landing: LandingPages) -> None:
        self.scenario = scenario
        self.clock = clock
        self.landing = landing
        self.sessions = Sessions(
            clock,
            api_token,
            timedelta(seconds=scenario.session_ttl_seconds),
            license_expired=scenario.license_expired,
        )
        self.faults = Faults(scenario.faults)
        self.project = Project(scenario.project, scenario.all_machines(), clock.now())
        self.replicas = Replicas(self.project.machines, landing)
        for machine in self.project.machines.values():
            if machine.spec.earlier_drill_target:
                self.replicas.create_earlier(machine, "TEST", clock.now() - timedelta(days=1))
        self.jobs = Jobs(scenario.job, self.project, self.replicas, clock, license_expired=scenario.license_expired)
        self.jobs.record_history(scenario.job_history)
        self.resources = Resources(self.project, self.jobs, self.replicas, clock)

    # The façade below is what tests, the drill report and the benchmarks read.
    @property
    def project_id(self) -> str:
        return self.project.id

    @property
    def machines(self) -> dict[str, Machine]:
        return self.project.machines

    @property
    def launches_accepted(self) -> int:
        return self.jobs.launches_accepted

    def points_in_time(self, project_id: str, machine_id: str) -> list[dict[str, str]]:
        """The machine's recovery points as the API lists them, oldest first."""
        return self.resources.points_in_time(project_id, machine_id)

    def shutdown(self) -> None:
        self.replicas.shutdown()
