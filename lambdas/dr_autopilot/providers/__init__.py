"""Recovery providers: the systems that replicate machines and launch them in AWS.

`provider_for(config)` builds the configured one; the workflow only sees `ports.RecoveryProvider`.
"""

from __future__ import annotations

from dr_autopilot.clients.aws import client
from dr_autopilot.clients.ec2 import InstanceDirectory
from dr_autopilot.config import FailoverConfig
from dr_autopilot.errors import MachinesChanged, WavePlanInvalid
from dr_autopilot.models import MAX_LISTED, machines_digest
from dr_autopilot.ports import RecoveryProvider


def refuse_if_changed(checked_machines: str | None, machine_ids: list[str], launched_jobs: list[str]) -> None:
    """Before launching more: MachinesChanged unless these are the machines the replication check
    judged (None: a state written before the check recorded them; nothing to compare). The
    message names the jobs an earlier attempt of this execution already launched, if any."""
    if checked_machines is not None and machines_digest(machine_ids) != checked_machines:
        done = (
            f"job(s) {', '.join(launched_jobs)} launched by an earlier attempt keep running; nothing more was launched"
            if launched_jobs
            else "nothing was launched"
        )
        raise MachinesChanged(
            f"the {len(machine_ids)} machines to launch are not the ones the replication check judged "
            f"(machines were added, removed or retagged since): {done}. Start again to check them."
        )


def refuse_a_plan_that_does_not_fit(
    machines: list[str],
    waves: list[tuple[str, list[str]]],
    checks: list[str | None] | None = None,
    done: str = "Nothing was launched.",
) -> None:
    """At the replication check, before anything is launched: WavePlanInvalid unless the recovery
    plan's waves (name, the machines each selects) hold every machine to recover exactly once,
    select nothing else, each select at least one, and each wave's check (`checks`, by wave)
    probes a machine of that wave or an earlier one. `machines: "all"` and DRS tags are only
    known here, not at synth."""
    counted: dict[str, list[str]] = {}
    for wave, members in waves:
        for name in members:
            counted.setdefault(name, []).append(wave)
    known = set(machines)
    nowhere = [name for name in machines if name not in counted]
    twice = [f"{name} ({', '.join(found)})" for name, found in counted.items() if len(found) > 1]
    unknown = [name for name in counted if name not in known]
    empty = [wave for wave, members in waves if not members]
    unreachable: list[str] = []
    launched: set[str] = set()
    for (wave, members), machine in zip(waves, checks or [None] * len(waves), strict=True):
        launched |= set(members)
        if machine is not None and machine not in launched:
            unreachable.append(f"{wave} probes {machine}")
    problems = [
        f"in no wave: {', '.join(nowhere[:MAX_LISTED])}" if nowhere else "",
        f"in more than one: {', '.join(twice[:MAX_LISTED])}" if twice else "",
        f"not among the machines to recover: {', '.join(unknown[:MAX_LISTED])}" if unknown else "",
        f"waves that select no machine: {', '.join(empty)}" if empty else "",
        f"checks of machines not launched by then: {', '.join(unreachable)}" if unreachable else "",
    ]
    if any(problems):
        raise WavePlanInvalid(
            "the recovery plan does not hold each machine to recover in exactly one wave, each wave "
            "checking what is up by then: "
            + "; ".join(problem for problem in problems if problem)
            + ". Nothing was launched."
        )


def provider_for(config: FailoverConfig) -> RecoveryProvider:
    if config.provider == "drs":
        return _drs_provider(config)
    return _cloudendure_provider(config)


def _drs_provider(config: FailoverConfig) -> RecoveryProvider:
    from dr_autopilot.providers.drs.client import DrsClient
    from dr_autopilot.providers.drs.provider import DrsProvider

    assert config.drs is not None  # the configuration requires the section for this provider
    region = config.drs.region  # None: the Lambda's own region
    # Recovery instances run in DRS's region: their addresses are read from EC2 there.
    return DrsProvider(DrsClient(client("drs", region)), config, InstanceDirectory(client("ec2", region)))


def _cloudendure_provider(config: FailoverConfig) -> RecoveryProvider:
    from dr_autopilot.providers.cloudendure.client import CloudEndureClient, RetrySettings
    from dr_autopilot.providers.cloudendure.provider import CloudEndureProvider
    from dr_autopilot.providers.cloudendure.secret import api_token

    cloudendure = config.cloudendure
    assert cloudendure is not None  # the configuration requires the section for this provider
    cloudendure_client = CloudEndureClient(
        api_token=lambda: api_token(cloudendure.api_token_secret_name),
        fresh_api_token=lambda: api_token(cloudendure.api_token_secret_name, fresh=True),
        base_url=cloudendure.api_url,
        retry=RetrySettings(read_timeout=cloudendure.read_timeout_seconds),
    )
    return CloudEndureProvider(cloudendure_client, config, InstanceDirectory())


__all__ = ["RecoveryProvider", "provider_for"]
