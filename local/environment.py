"""The whole failover, locally: the CloudEndure emulator, local AWS, and the state machine
synthesized from the real CDK app (with the drill's context), executed with the real handlers.

`LocalFailoverEnvironment` owns the lifecycle (start, synthesize, deploy, reconfigure, stop);
`site` (local/site.py) is the DNS record, lock and notifications around it, and `executions`
(local/executions.py) starts and follows runs. The drill (`python -m local.drill`) and the
workflow tests use this same environment.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import importlib.metadata
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dr_autopilot.config import CONTEXT_KEY, FailoverConfig

from local.aws import REGION, Deployment, LocalAws, deploy
from local.executions import ExecutionResult, Executions
from local.providers import ProviderName, local_provider
from local.site import PRIMARY_ADDRESS, SiteFixture
from local.tls import local_ca

__all__ = ["PRIMARY_ADDRESS", "ExecutionResult", "LocalFailoverEnvironment", "base_context", "synthesize"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ZONE_NAME = "example.com"


def base_context() -> dict[str, Any]:
    """The context of cdk.json, as `npx cdk synth` would read it."""
    return dict(json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"])


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        merged[key] = (
            merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
        )
    return merged


def drill_overrides(api_url: str, landing_port: int, hosted_zone_id: str, https: bool = False) -> dict[str, Any]:
    """What the local drill changes in cdk.json's configuration, and why:
    the API and landing page live on this machine, the zone is moto's, and the workflow's Wait
    states (which really sleep) poll every second instead of every 15-60 s, and a drill holds its
    site for one minute instead of 30. Thresholds and
    timeouts measured on the provider's clock (lag, job timeout) stay as configured: they run
    on the emulator's clock, scaled with it."""
    return {
        CONTEXT_KEY: {
            "cloudendure": {"apiUrl": api_url, "readTimeoutSeconds": 2},
            "dns": {"hostedZoneId": hosted_zone_id, "insyncTimeoutSeconds": 10},
            "healthCheck": {
                "port": landing_port,
                "scheme": "https" if https else "http",  # as the scenario's landing page is served
                "timeoutSeconds": 2,
                "intervalSeconds": 1,
                "maxAttempts": 5,
            },
            "job": {"pollMinSeconds": 1, "pollMaxSeconds": 1},
            # A drill holds its site one minute (the drill ends the hold at once, as on-call can).
            "drill": {"holdMinutes": 1},
        },
        "account": "123456789012",
        "region": REGION,
        "aws:cdk:bundling-stacks": [],  # the drill runs handlers from source; no Lambda bundle needed
    }


SYNTH_CACHE_VARIABLE = "DR_AUTOPILOT_SYNTH_CACHE"


def synthesize(context: dict[str, Any]) -> dict[str, Any]:
    """Synthesize the real CDK app in-process and return the stack's template.

    With DR_AUTOPILOT_SYNTH_CACHE naming a directory (the test session sets one for its workers),
    a template is synthesized once per context and code: the key is the context and every source
    file of the packages that build it, so any change synthesizes again."""
    cache = os.environ.get(SYNTH_CACHE_VARIABLE)
    if not cache:
        return synthesize_uncached(context)
    directory = Path(cache)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{_synth_key(context)}.json"
    with (directory / f"{path.stem}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process synthesizes; the others wait and read
        if path.exists():
            return dict(json.loads(path.read_text()))
        template = synthesize_uncached(context)
        path.write_text(json.dumps(template))
        return template


def _synth_key(context: dict[str, Any]) -> str:
    import dr_autopilot

    import infrastructure

    defaults = {name: os.environ.get(name) for name in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION")}
    digest = hashlib.sha256(json.dumps([context, defaults], sort_keys=True, default=str).encode())
    for package in (infrastructure, dr_autopilot):
        root = Path(package.__file__ or "").parent
        for source in sorted(root.rglob("*.py")):
            digest.update(str(source.relative_to(root)).encode() + source.read_bytes())
    digest.update(importlib.metadata.version("aws-cdk-lib").encode() + importlib.metadata.version("cdk-nag").encode())
    return digest.hexdigest()[:32]


def synthesize_uncached(context: dict[str, Any]) -> dict[str, Any]:
    """Synthesize the real CDK app in-process, every time, and return the stack's template."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infrastructure.app import STACK_NAME, build_app

    with tempfile.TemporaryDirectory(prefix="dr-autopilot-synth-") as outdir:
        stack = build_app(context=context, outdir=outdir).synth().get_stack_by_name(STACK_NAME)
        errors = [
            f"{message.id}: {str(message.entry.data).splitlines()[0]}"
            for message in stack.messages
            if message.level.value == "ERROR"
        ]
        if errors:  # as `cdk synth` does: an unacknowledged cdk-nag finding (or any error) stops here
            raise SynthError(f"{len(errors)} error annotation(s):\n" + "\n".join(errors))
        return dict(stack.template)


STAND_INS = ("http://127.0.0.1:64999/stand-in/api/latest", 64998, "ZSTANDINZONE0000000000")


def localize(template: dict[str, Any], stand_in: FailoverConfig, config: FailoverConfig, zone: str) -> dict[str, Any]:
    """The template as if synthesized with `config` and `zone`: the stand-ins of `STAND_INS` may
    appear only in the configuration variable (replaced whole) and as the zone id (replaced)."""
    text = json.dumps(template)
    stand_in_variable, variable = (json.dumps(c.to_environment())[1:-1] for c in (stand_in, config))
    api_url, port, _ = STAND_INS
    elsewhere = text.replace(stand_in_variable, "")
    if api_url in elsewhere or str(port) in elsewhere:
        raise SynthError("a local stand-in value appears outside the configuration variable; synthesize directly")
    return dict(json.loads(text.replace(stand_in_variable, variable).replace(STAND_INS[2], zone)))


class SynthError(RuntimeError):
    """The app synthesized with error annotations (for example an unacknowledged cdk-nag finding)."""


@dataclass(frozen=True)
class Stage:
    """One deployed stack in local AWS: its configuration, template, resources, site and runs."""

    config: FailoverConfig
    template: dict[str, Any]
    deployment: Deployment
    site: SiteFixture
    executions: Executions


class LocalFailoverEnvironment:
    """Emulator + local AWS + deployed workflow, started and stopped together (a context manager)."""

    def __init__(
        self,
        scenario: str = "two-tier",
        *,
        provider: ProviderName = "cloudendure",
        time_scale: float = 60.0,
        machine_count: int | None = None,
        overrides: dict[str, Any] | None = None,
        interpreter_time_scale: float = 1.0,
    ) -> None:
        """`time_scale`: the emulator's clock (a 240 s job takes 240/time_scale real seconds);
        `interpreter_time_scale`: how much faster than real the local Step Functions interpreter
        sleeps through Wait states and Retry intervals (1 in the drill, whose timings are real)."""
        self.scenario = scenario
        self.time_scale = time_scale
        self._overrides = overrides or {}
        self.provider = local_provider(provider, scenario, time_scale, machine_count)
        self.emulator: Any = self.provider.emulator  # the provider's own emulator, for tests that look inside
        self.aws = LocalAws(interpreter_time_scale=interpreter_time_scale)
        self.synth_seconds = 0.0
        self._deployments = 0
        self._stage: Stage | None = None

    def __enter__(self) -> LocalFailoverEnvironment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalFailoverEnvironment:
        self.provider.start()
        self.aws.start()
        # The functions trust the drill's CA (a TLS landing page's certificate), as functions in
        # AWS trust the public CAs; and they reach the local provider.
        self.aws.runtime.extra_environment["REQUESTS_CA_BUNDLE"] = str(local_ca().bundle)
        self.aws.runtime.extra_environment.update(self.provider.function_environment())
        try:
            self.hosted_zone_id = (
                self.aws.client("route53")
                .create_hosted_zone(Name=ZONE_NAME, CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"]
                .split("/")[-1]
            )
            started = time.monotonic()
            config, template = self._synthesize(self._overrides)
            self.synth_seconds = time.monotonic() - started
            if config.provider == "cloudendure" and config.cloudendure is not None:
                self.aws.client("secretsmanager").create_secret(
                    Name=config.cloudendure.api_token_secret_name, SecretString=self.emulator.api_token
                )
            self._deploy(config, template)
            self.reset_site()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self.aws.stop()
        self.provider.stop()

    def _synthesize(self, overrides: dict[str, Any]) -> tuple[FailoverConfig, dict[str, Any]]:
        https = self.provider.landing_tls
        local = drill_overrides(self.emulator.base_url, self.provider.landing_port, self.hosted_zone_id, https)
        site = merge(self.provider.overrides(), self.provider.scenario_configuration())
        context = merge(merge(merge(base_context(), local), site), overrides)
        config = FailoverConfig.parse(context[CONTEXT_KEY])
        if not os.environ.get(SYNTH_CACHE_VARIABLE):
            return config, synthesize(context)
        # Shared by every environment of the test session: synthesized with stand-ins for this
        # environment's own values (ports, zone id), which are then put in their place.
        stand_in = merge(merge(merge(base_context(), drill_overrides(*STAND_INS)), site), overrides)
        template = synthesize(stand_in)
        return config, localize(template, FailoverConfig.parse(stand_in[CONTEXT_KEY]), config, self.hosted_zone_id)

    def _deploy(self, config: FailoverConfig, template: dict[str, Any], prefix: str = "") -> None:
        deployment = deploy(template, self.aws, prefix=prefix)
        site = SiteFixture(self.aws, deployment, config.dns)
        self._stage = Stage(config, template, deployment, site, Executions(self.aws, deployment, template))

    def _current(self) -> Stage:
        if self._stage is None:
            raise RuntimeError("the local environment is not started")
        return self._stage

    @property
    def config(self) -> FailoverConfig:
        return self._current().config

    @property
    def template(self) -> dict[str, Any]:
        return self._current().template

    @property
    def deployment(self) -> Deployment:
        return self._current().deployment

    @property
    def site(self) -> SiteFixture:
        return self._current().site

    @property
    def executions(self) -> Executions:
        return self._current().executions

    def reset_site(self, scenario: str | None = None, machine_count: int | None = None) -> None:
        """Back to 'the primary has just failed': fresh emulator scenario (if given), every function
        cold, DNS on the primary, no lock, no messages."""
        if scenario is not None:
            self.scenario = scenario
            self.provider.reset(scenario, machine_count)
        self.aws.runtime.recycle()
        self.site.reset()

    @contextlib.contextmanager
    def reconfigured(self, overrides: dict[str, Any]) -> Iterator[LocalFailoverEnvironment]:
        """Synthesize again with `overrides` on top, deploy that stack beside the first one (same
        local AWS, emulator and zone, names prefixed) and use it inside the block."""
        saved = self._stage
        self._deployments += 1
        config, template = self._synthesize(merge(self._overrides, overrides))
        self._deploy(config, template, prefix=f"v{self._deployments}-")
        try:
            self.reset_site()
            yield self
        finally:
            self._stage = saved
            self.aws.runtime.recycle()
