"""The failover configuration: one model, validated at synth time (cdk.json context key
`drAutopilot`) and again at cold start (environment variable `DR_AUTOPILOT_CONFIG`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

CONTEXT_KEY = "drAutopilot"
HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$", re.IGNORECASE)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names every wrong or missing key."""


def _hostname(value: str) -> str:
    if not HOSTNAME.match(value):
        raise ValueError(f"{value!r} is not a DNS name such as www.example.com")
    return value.rstrip(".").lower()


def _email(value: str) -> str:
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


class _Section(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)


class CloudEndureConfig(_Section):
    api_url: Annotated[str, Field(pattern=r"^https?://\S+$")] = "https://console.cloudendure.com/api/latest"
    project_name: Annotated[str, Field(min_length=1, max_length=256)]
    api_token_secret_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]


class ReplicationConfig(_Section):
    max_lag_seconds: Annotated[float, Field(gt=0, le=86_400)] = 120
    max_agent_silence_seconds: Annotated[float, Field(gt=0, le=86_400)] = 300


class DnsConfig(_Section):
    hosted_zone_id: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,32}$")]
    record_name: Annotated[str, AfterValidator(_hostname)]
    record_type: Literal["A", "CNAME"] = "A"
    ttl: Annotated[int, Field(ge=0, le=86_400)] = 60
    drill_record_name: Annotated[str, AfterValidator(_hostname)] | None = None
    insync_timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 120


class HealthCheckConfig(_Section):
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/"
    expected_text: Annotated[str, Field(min_length=1, max_length=1024)]
    scheme: Literal["http", "https"] = "http"
    port: Annotated[int, Field(ge=1, le=65_535)] = 80
    timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 5
    interval_seconds: Annotated[int, Field(ge=1, le=600)] = 10
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 30


class JobConfig(_Section):
    timeout_seconds: Annotated[int, Field(ge=60, le=86_400)] = 1800
    poll_min_seconds: Annotated[int, Field(ge=1, le=3600)] = 15
    poll_max_seconds: Annotated[int, Field(ge=1, le=3600)] = 60

    @model_validator(mode="after")
    def _bounds_in_order(self) -> Self:
        if self.poll_min_seconds > self.poll_max_seconds:
            raise ValueError("pollMinSeconds must not exceed pollMaxSeconds")
        return self


class NotificationConfig(_Section):
    emails: list[Annotated[str, AfterValidator(_email)]] = []


class FailoverConfig(_Section):
    provider: Literal["cloudendure"] = "cloudendure"
    cloudendure: CloudEndureConfig | None = None
    machines: Literal["all"] | Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    webserver_machine: Annotated[str, Field(min_length=1)]
    replication: ReplicationConfig = ReplicationConfig()
    dns: DnsConfig
    health_check: HealthCheckConfig
    job: JobConfig = JobConfig()
    notifications: NotificationConfig = NotificationConfig()
    workflow_timeout_seconds: Annotated[int, Field(ge=300, le=86_400)] = 7200

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.provider == "cloudendure" and self.cloudendure is None:
            raise ValueError("provider 'cloudendure' needs a 'cloudendure' section")
        if isinstance(self.machines, list):
            if len(set(self.machines)) != len(self.machines):
                raise ValueError("machines lists a machine twice")
            if self.webserver_machine not in self.machines:
                raise ValueError(f"webserverMachine {self.webserver_machine!r} is not in machines")
        return self

    @classmethod
    def parse(cls, raw: object, source: str = CONTEXT_KEY) -> FailoverConfig:
        """Validate raw configuration; ConfigError names each bad key as `source.path.to.key`."""
        if not isinstance(raw, dict):
            raise ConfigError(f"{source}: expected an object with the failover configuration, got {type(raw).__name__}")
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            problems = []
            for item in error.errors():
                path = ".".join(
                    str(part)
                    for part in (source, *item["loc"])
                    if not str(part).startswith(("function-", "literal[", "list["))
                )
                problems.append(f"  {path}: {item['msg']}")
            raise ConfigError(f"invalid configuration ({len(problems)} problem(s)):\n" + "\n".join(problems)) from None

    def to_environment(self) -> str:
        return self.model_dump_json(by_alias=True)
