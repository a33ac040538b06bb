"""HealthCheck: probe the recovered landing page; the workflow waits and probes again, bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from dr_autopilot.config import FailoverConfig, HealthCheckConfig
from dr_autopilot.errors import MissingStepResult, TargetUnhealthy
from dr_autopilot.models import HealthResult, Mode, WorkflowState
from dr_autopilot.ports import Probe

DEFAULT_PORTS = {"http": 80, "https": 443}


def landing_url(address: str, config: HealthCheckConfig) -> str:
    port = "" if DEFAULT_PORTS[config.scheme] == config.port else f":{config.port}"
    return f"{config.scheme}://{address}{port}{config.path}"


def site_name(state: WorkflowState, config: FailoverConfig) -> str | None:
    """The name visitors will use once DNS points at the target: what the probe asks for."""
    if config.health_check.host_name:
        return config.health_check.host_name
    if state.request.mode is Mode.DRILL and config.dns.drill_record_name:
        return config.dns.drill_record_name
    # A recovery; or a drill that switches no record, whose site is still the production one
    # (found by the red team: with https it was probed by bare IP, which no certificate passes).
    return config.dns.record_name


def health_check(state: WorkflowState, failover: FailoverConfig, probe: Probe) -> HealthResult:
    if state.target is None:
        raise MissingStepResult("HealthCheck: no recovered webserver in this execution's state")
    config = failover.health_check
    attempts = (state.health.attempts if state.health else 0) + 1
    url = landing_url(state.target.address, config)
    result = probe(url, config.expected_text, config.timeout_seconds, site_name(state, failover))
    if not result.healthy and attempts >= config.max_attempts:
        raise TargetUnhealthy(f"{url} failed {attempts} health checks; last: {result.detail}. DNS was not changed.")
    return HealthResult(
        healthy=result.healthy,
        url=url,
        attempts=attempts,
        status_code=result.status_code,
        detail=result.detail,
        wait_seconds=0 if result.healthy else config.interval_seconds,
        checked_at=datetime.now(UTC),
    )
