"""Figures of one executed failover, from the execution history and the emulator's clock."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dr_autopilot import history
from dr_autopilot.states import PHASES, StateName

from local.environment import ExecutionResult, LocalFailoverEnvironment

TITLES = {phase.key: phase.title for phase in PHASES}
JOB_PHASE, HEALTH_PHASE = "job", "health"  # PHASES keys the figures are computed from


@dataclass
class DrillReport:
    status: str
    record_before: list[str]
    record_after: list[str]
    recovered_address: str | None
    health: dict[str, Any] | None
    phases: list[tuple[str, float]]  # (phase key, real seconds)
    total_seconds: float
    job_emulated_seconds: float | None
    time_scale: float
    state_transitions: int
    largest_payload_bytes: int
    launch_overhead_seconds: float | None
    completion_overhead_seconds: float | None
    health_check_seconds: float
    launches: int
    error: str | None = None
    cause: str | None = None
    notifications: list[dict[str, str]] = field(default_factory=list)
    # A drill's clean-up: what the workflow says it did, and what the emulator and DNS show now.
    cleanup: dict[str, Any] | None = None
    # A recovery plan's waves, in order: name, machines, job, launch and completion times (the emulator's).
    waves: list[dict[str, Any]] = field(default_factory=list)

    @property
    def orchestration_overhead_seconds(self) -> float | None:
        if self.launch_overhead_seconds is None or self.completion_overhead_seconds is None:
            return None
        return self.launch_overhead_seconds + self.completion_overhead_seconds

    @property
    def emulated_rto_seconds(self) -> float | None:
        """Real time outside the job, plus the job's own emulated duration: the RTO the same run
        would have had against a real CloudEndure job of that length."""
        wait = dict(self.phases).get(JOB_PHASE, 0.0)
        if self.job_emulated_seconds is None:
            return None
        return self.total_seconds - wait + self.job_emulated_seconds

    def as_dict(self) -> dict[str, Any]:
        figures = {key: value for key, value in self.__dict__.items() if key != "notifications"}
        figures["orchestration_overhead_seconds"] = self.orchestration_overhead_seconds
        figures["emulated_rto_seconds"] = self.emulated_rto_seconds
        return figures


def _largest_payload(events: list[dict[str, Any]]) -> int:
    sizes = [0]
    for event in events:
        for key, field_name in (("stateEnteredEventDetails", "input"), ("stateExitedEventDetails", "output")):
            details = event.get(key)
            if details and details.get(field_name) is not None:
                sizes.append(len(details[field_name].encode()))
    return max(sizes)


def build_report(env: LocalFailoverEnvironment, result: ExecutionResult, record_before: list[str]) -> DrillReport:
    events = result.events
    launch = history.last_result(events, StateName.LAUNCH_RECOVERY, "launch")
    health = history.last_result(events, StateName.HEALTH_CHECK, "health")
    target = history.last_result(events, StateName.FIND_TARGETS, "target")
    dns = history.last_result(events, StateName.UPDATE_DNS, "dns")
    started = result.started
    job_seconds = launch_overhead = completion_overhead = None
    waves = _waves(env, launch)
    # With a recovery plan: the first wave's launch and the last wave's completion.
    first_job = waves[0]["jobId"] if waves else launch["jobId"] if launch else None
    last_job = waves[-1]["jobId"] if waves else first_job
    first = env.provider.job_window(first_job) if first_job else None
    last = env.provider.job_window(last_job) if last_job else None
    if first is not None and last is not None:
        created_real, _ = first  # on the emulator's clock, converted to real time
        completed_real = last[1]
        # the launch call: the moment the emulator accepted it
        launch_overhead = (created_real - started).total_seconds()
        if completed_real is not None:
            job_seconds = (completed_real - created_real).total_seconds() * env.provider.clock.time_scale
            if dns and dns.get("insyncAt"):
                completion_overhead = (datetime.fromisoformat(dns["insyncAt"]) - completed_real).total_seconds()
    phases = history.phase_spans(events)
    return DrillReport(
        status=result.status,
        record_before=record_before,
        record_after=env.site.record_values(),
        recovered_address=target.get("address") if target else None,
        health=health,
        phases=phases,
        total_seconds=((result.stopped or started) - started).total_seconds(),
        job_emulated_seconds=job_seconds,
        time_scale=env.provider.clock.time_scale,
        state_transitions=sum(1 for e in events if "stateEnteredEventDetails" in e),
        largest_payload_bytes=_largest_payload(events),
        launch_overhead_seconds=launch_overhead,
        completion_overhead_seconds=completion_overhead,
        health_check_seconds=dict(phases).get(HEALTH_PHASE, 0.0),
        launches=env.provider.launches_accepted,
        error=result.error,
        cause=result.cause,
        notifications=env.site.notifications(),
        cleanup=_cleanup(env, events, launch, dns),
        waves=waves,
    )


def _waves(env: LocalFailoverEnvironment, launch: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The recovery plan's waves that were launched, in order: their machines and their jobs'
    creation and completion on the emulator's clock (shown in real time), from the emulator."""
    plan = {wave.name: wave for wave in (env.config.waves or [])}
    waves = []
    for record in (launch or {}).get("waves", []):
        window = env.provider.job_window(record["jobId"])
        wave = plan.get(record["name"])
        waves.append(
            {
                "name": record["name"],
                "machines": (wave.machines or [f"tags {wave.tags}"]) if wave else [],
                "machineCount": record["machineCount"],
                "jobId": record["jobId"],
                "launchedAt": window[0].isoformat() if window else None,
                "completedAt": window[1].isoformat() if window and window[1] else None,
            }
        )
    return waves


def _cleanup(
    env: LocalFailoverEnvironment,
    events: list[dict[str, Any]],
    launch: dict[str, Any] | None,
    dns: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """A drill's clean-up as the workflow reported it, checked against the emulator (the drill's
    instances still running) and DNS (the drill record as it is now)."""
    request = history.last_result(events, StateName.VALIDATE_INPUT, "request") or {}
    if launch is None or request.get("mode") != "drill":
        return None
    done = history.last_result(events, StateName.CLEAN_UP_DRILL, "cleanup")
    switched = (dns or {}).get("current")
    before = (dns or {}).get("previous")
    record_now = env.site.record_values(switched["name"]) if switched else []
    return {
        "instancesTerminated": (done or {}).get("instanceIds", []),
        "instancesTerminatedCount": (done or {}).get("instancesTerminated", 0),
        # every wave's job (a plan), not only the last one's
        "stillRunning": env.provider.running_instances(
            ",".join(wave["jobId"] for wave in launch.get("waves", [])) or launch["jobId"]
        ),
        "record": (done or {}).get("record"),
        "recordDetail": (done or {}).get("recordDetail"),
        "recordRestored": bool(switched) and record_now == (before["values"] if before else []),
        "leftAlone": (done or {}).get("leftAlone", []),
        "requestedBy": (done or {}).get("requestedBy"),
    }


def render_report(report: DrillReport) -> str:
    scale = f"emulated, time scale {report.time_scale:g}x"
    lines = [
        "",
        "=" * 72,
        f" Failover drill report: {report.status}",
        "=" * 72,
        f" DNS record            {', '.join(report.record_before) or '-'}  ->  {', '.join(report.record_after) or '-'}",
        f" Recovered webserver   {report.recovered_address or '-'}",
    ]
    if report.health:
        lines.append(
            f" Health check          {'healthy' if report.health.get('healthy') else 'UNHEALTHY'}: {report.health.get('detail')} ({report.health.get('attempts')} attempt(s), {report.health.get('url')})"
        )
    lines.append(f" Launches accepted     {report.launches}")
    if report.error:
        lines.append(f" Error                 {report.error}: {history.error_message(report.cause)}")
    lines += ["", " Phase                       real seconds"]
    lines += [f"   {TITLES[key]:<25} {seconds:8.2f}" for key, seconds in report.phases]
    lines.append(f"   {'Total (real)':<25} {report.total_seconds:8.2f}")
    if report.job_emulated_seconds is not None:
        lines.append(f"   {'Recovery job':<25} {report.job_emulated_seconds:8.0f}   ({scale})")
    if report.emulated_rto_seconds is not None:
        lines.append(
            f"   {'Total RTO':<25} {report.emulated_rto_seconds:8.1f}   ({scale}: real pipeline time + emulated job)"
        )
    lines += [
        "",
        f" State transitions     {report.state_transitions}",
        f" Largest state payload {report.largest_payload_bytes} bytes (Step Functions limit: 262,144)",
    ]
    if report.orchestration_overhead_seconds is not None:
        lines.append(
            f" Orchestration overhead {report.orchestration_overhead_seconds:.2f} s real = launch call - start "
            f"{report.launch_overhead_seconds:.2f} s + DNS INSYNC - job completed {report.completion_overhead_seconds:.2f} s "
            f"(of which health check {report.health_check_seconds:.2f} s)"
        )
    if report.waves:
        lines += ["", " Wave            machines  job launched (real)   job completed (real)"]
        lines += [
            f"   {wave['name']:<14} {wave['machineCount']:>7}  {(wave['launchedAt'] or '-')[11:23]:<20}  {(wave['completedAt'] or '-')[11:23]}"
            for wave in report.waves
        ]
    if report.cleanup is not None:
        cleanup = report.cleanup
        lines += [
            "",
            f" Drill clean-up        {cleanup['instancesTerminatedCount']} instance(s) terminated "
            f"({', '.join(cleanup['instancesTerminated']) or '-'}), by {cleanup['requestedBy'] or '-'}",
            f" Still running         {', '.join(cleanup['stillRunning']) or 'none'} (the emulator's records)",
            f" Drill record          {cleanup['record'] or 'not cleaned up'}: {cleanup['recordDetail'] or '-'}",
        ]
    for message in report.notifications:
        lines += ["", f" SNS: {message['subject']}", *("   " + line for line in message["message"].splitlines())]
    return "\n".join(lines)


def payload_json(report: DrillReport) -> str:
    return json.dumps(report.as_dict(), default=str, indent=2)
