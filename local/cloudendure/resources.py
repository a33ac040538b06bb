"""The CloudEndure v5 resources the HTTP front serves, one method a route, answered as wire JSON."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from local.cloudendure.clock import Clock
from local.cloudendure.jobs import Jobs
from local.cloudendure.project import Project
from local.cloudendure.replicas import Replicas
from local.cloudendure.wire import (
    read_launch_request,
    read_replica_ids,
    render_job,
    render_machine,
    render_points_in_time,
    render_project,
    render_replica,
)


class Resources:
    """Answers each API route: checks the project id of the path, reads or changes the state
    (with jobs brought up to the clock where the answer shows their effects) and renders it."""

    def __init__(self, project: Project, jobs: Jobs, replicas: Replicas, clock: Clock) -> None:
        self.project = project
        self.jobs = jobs
        self.replicas = replicas
        self.clock = clock

    def project_details(self, project_id: str) -> dict[str, Any]:
        self.project.check(project_id)
        return render_project(self.project)

    def machine_page(self, project_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        with self._settled(project_id) as now:
            return [render_machine(machine, now) for machine in self.project.machine_page(offset, limit)]

    def machine(self, project_id: str, machine_id: str) -> dict[str, Any]:
        return render_machine(self.project.machine(project_id, machine_id), self.clock.now())

    def points_in_time(self, project_id: str, machine_id: str) -> list[dict[str, str]]:
        machine = self.project.machine(project_id, machine_id)
        return render_points_in_time(machine.points_in_time(self.clock.now()))

    def launch(self, project_id: str, body: Any, initiated_by: str) -> dict[str, Any]:
        self.project.check(project_id)
        launch_type, chosen = read_launch_request(body, self.project, self.clock.now())
        with self.jobs.settled():
            return render_job(self.jobs.launch(launch_type, chosen, initiated_by), self.clock.now())

    def job(self, project_id: str, job_id: str) -> dict[str, Any]:
        with self._settled(project_id) as now:
            return render_job(self.jobs.find(job_id), now)

    def job_page(self, project_id: str, offset: int, limit: int) -> list[dict[str, Any]]:
        with self._settled(project_id) as now:
            return [render_job(job, now) for job in self.jobs.page(offset, limit)]

    def replica(self, project_id: str, replica_id: str) -> dict[str, Any]:
        with self._settled(project_id):
            return render_replica(self.replicas.find(replica_id))

    def delete_replicas(self, project_id: str, body: Any, initiated_by: str) -> dict[str, Any]:
        self.project.check(project_id)
        replica_ids = read_replica_ids(body)
        with self.jobs.lock:
            return render_job(self.jobs.clean_up(replica_ids, initiated_by), self.clock.now())

    @contextmanager
    def _settled(self, project_id: str) -> Iterator[datetime]:
        """Check the project, then hold the jobs settled; yields the moment the answer describes."""
        self.project.check(project_id)
        with self.jobs.settled():
            yield self.clock.now()
