"""The local stand-in of each recovery provider, behind one small interface for the drill.

`LocalFailoverEnvironment(provider=...)` starts the CloudEndure emulator or the local DRS and
reads through this what the drill and its report need: how the stack must be configured to
reach it, what the functions' environment must carry, how many launches it accepted, and when a
launch's job(s) started and finished (on the emulator's clock, converted to real time). Tests
that look inside one provider's emulator use `env.emulator` directly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from dr_autopilot.config import CONTEXT_KEY

from local.cloudendure import CloudEndureEmulator
from local.cloudendure.clock import Clock
from local.drs import DrsEmulator
from local.drs.ec2 import MotoEc2Fleet

ProviderName = Literal["cloudendure", "drs"]
PROVIDERS: tuple[ProviderName, ...] = ("cloudendure", "drs")


class LocalProvider(Protocol):
    name: ProviderName
    emulator: Any
    clock: Clock

    @property
    def landing_port(self) -> int: ...

    @property
    def landing_tls(self) -> bool: ...

    @property
    def launches_accepted(self) -> int: ...

    def launch_kinds(self) -> list[str]:
        """Each launch job's kind, oldest first: "recovery" or "drill"."""
        ...

    def launch_job_ids(self) -> list[str]:
        """Each launch job's id, oldest first."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def reset(self, scenario: str, machine_count: int | None) -> None: ...

    def overrides(self) -> dict[str, Any]:
        """What the drill changes in cdk.json's configuration to reach this provider, beyond
        `drill_overrides` (which points cloudendure.apiUrl at the CloudEndure emulator)."""
        ...

    def scenario_configuration(self) -> dict[str, Any]:
        """What the scenario's site says in its cdk.json (machines "all" for a generated estate)."""
        ...

    def function_environment(self) -> dict[str, str]:
        """What every function's environment must carry to reach this provider."""
        ...

    def running_instances(self, job_ids: str) -> list[str]:
        """The instances these launch jobs (comma-separated) created that still run, from the
        emulator's own records."""
        ...

    def job_window(self, job_id: str) -> tuple[datetime, datetime | None] | None:
        """When the launch's job(s) were created and (if done) finished, in real time."""
        ...


class _EmulatedSite:
    """What both sites do the same way: their emulator runs the landing pages and the scenario."""

    name: ProviderName
    emulator: Any

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self.clock: Clock = emulator.clock

    @property
    def landing_port(self) -> int:
        return int(self.emulator.landing_port)

    @property
    def landing_tls(self) -> bool:
        return bool(self.emulator.account.scenario.landing_page.tls)

    def start(self) -> None:
        self.emulator.start()

    def stop(self) -> None:
        self.emulator.stop()

    def reset(self, scenario: str, machine_count: int | None) -> None:
        self.emulator.reset(scenario, machine_count)

    def scenario_configuration(self) -> dict[str, Any]:
        return {CONTEXT_KEY: dict(self.emulator.account.scenario.configuration)}


class CloudEndureSite(_EmulatedSite):
    name: ProviderName = "cloudendure"

    def __init__(self, scenario: str, time_scale: float, machine_count: int | None) -> None:
        super().__init__(CloudEndureEmulator(scenario, time_scale=time_scale, machine_count=machine_count))

    @property
    def launches_accepted(self) -> int:
        return int(self.emulator.account.launches_accepted)

    def launch_kinds(self) -> list[str]:
        kinds = {"RECOVERY": "recovery", "TEST": "drill"}
        jobs = self.emulator.account.jobs.values()
        return [kinds[job.launch_type] for job in jobs if job.launch_type in kinds]

    def launch_job_ids(self) -> list[str]:
        jobs = self.emulator.account.jobs.values()
        return [job.id for job in jobs if job.launch_type in ("RECOVERY", "TEST")]

    def overrides(self) -> dict[str, Any]:
        return {}  # the drill's overrides already point cloudendure.apiUrl at the emulator

    def function_environment(self) -> dict[str, str]:
        return {}

    def running_instances(self, job_ids: str) -> list[str]:
        wanted = set(job_ids.split(","))
        with self.emulator.account.jobs.lock:
            return [r.cloud_id for r in self.emulator.account.replicas.all() if r.job_id in wanted]

    def job_window(self, job_id: str) -> tuple[datetime, datetime | None] | None:
        job = self.emulator.account.jobs.get(job_id)
        if job is None:
            return None
        done = job.end_offset is not None and job.finalized
        end = job.created_at + timedelta(seconds=job.end_offset or 0) if done else None
        return self.clock.to_wall_clock(job.created_at), self.clock.to_wall_clock(end) if end else None


class DrsSite(_EmulatedSite):
    name: ProviderName = "drs"

    def __init__(self, scenario: str, time_scale: float, machine_count: int | None) -> None:
        # Recovery instances become EC2 instances in local AWS (moto), as DRS's do in AWS.
        super().__init__(
            DrsEmulator(scenario, time_scale=time_scale, machine_count=machine_count, fleet=MotoEc2Fleet())
        )

    @property
    def launches_accepted(self) -> int:
        return int(self.emulator.account.jobs.recoveries_accepted)

    def launch_kinds(self) -> list[str]:
        with self.emulator.account.lock:
            jobs = list(self.emulator.account.jobs.order)
        return ["drill" if job.is_drill else "recovery" for job in jobs if job.type == "LAUNCH"]

    def launch_job_ids(self) -> list[str]:
        with self.emulator.account.lock:
            return [job.id for job in self.emulator.account.jobs.order if job.type == "LAUNCH"]

    def overrides(self) -> dict[str, Any]:
        return {CONTEXT_KEY: {"provider": "drs", "drs": {}}}

    def function_environment(self) -> dict[str, str]:
        # boto3 reads a service's endpoint from AWS_ENDPOINT_URL_<SERVICE>, as AWS's SDKs do.
        return {"AWS_ENDPOINT_URL_DRS": self.emulator.base_url}

    def running_instances(self, job_ids: str) -> list[str]:
        wanted = set(job_ids.split(","))
        with self.emulator.account.settled():
            # a terminated recovery instance leaves DRS's inventory, as in DRS
            return [i.id for i in self.emulator.account.instances.select(None, None) if i.job_id in wanted]

    def job_window(self, job_id: str) -> tuple[datetime, datetime | None] | None:
        with self.emulator.account.settled() as now:
            found = [self.emulator.account.jobs.jobs.get(one) for one in job_id.split(",")]
        jobs = [job for job in found if job is not None]
        if not jobs or len(jobs) != len(found):
            return None
        created = min(job.created_at for job in jobs)
        ends = [job.end() for job in jobs]
        done = [end for end in ends if end is not None and end <= now]
        end = max(done) if len(done) == len(ends) else None
        return self.clock.to_wall_clock(created), self.clock.to_wall_clock(end) if end else None


def local_provider(name: ProviderName, scenario: str, time_scale: float, machine_count: int | None) -> LocalProvider:
    if name == "drs":
        return DrsSite(scenario, time_scale, machine_count)
    return CloudEndureSite(scenario, time_scale, machine_count)
