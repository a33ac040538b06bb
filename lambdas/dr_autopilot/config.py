"""The failover configuration: one model, validated at synth time (cdk.json context key
`drAutopilot`) and again at cold start (environment variable `DR_AUTOPILOT_CONFIG`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

CONTEXT_KEY = "drAutopilot"
HOSTNAME = re.compile(r"^(?=.{1,253}\.?$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$", re.IGNORECASE)
ALARM_NAME = r"^[\w .,:/#+=@()\[\]-]+$"  # the names an alarm-started input accepts (models.AlarmTrigger)
WORKFLOW_MARGIN_SECONDS = 300  # replication check, launch, polls and step retries, generously
DNS_ATTEMPTS = 4  # UpdateDns and its three retries while the change is pending
# A drill's clean-up: 4 attempts of up to 300 s waiting for its instances, 30 + 60 + 120 s between
# them, and a margin for the DNS restore's retries.
CLEANUP_SECONDS = 1500
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names every wrong or missing key."""


SOURCE_SERVER_ID = re.compile(r"s-[0-9a-zA-Z]{17}")  # botocore's model for SourceServerID


def _hostname(value: str) -> str:
    if not HOSTNAME.match(value):
        raise ValueError(f"{value!r} is not a DNS name such as www.example.com")
    return value.rstrip(".").lower()


def _email(value: str) -> str:
    if not EMAIL.fullmatch(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


class _Section(BaseModel):
    # Strict: a wrong type is refused, never coerced (no `true` read as 1, no "60" read as 60).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=True)


LOOPBACK_HOSTS = re.compile(r"^(localhost|127(\.\d{1,3}){3}|::1)$", re.IGNORECASE)


def _api_url(value: str) -> str:
    """HTTPS, except on this machine (the local emulator): the API token travels to it. No user
    info or backslash, which parsers read differently (the host checked must be the host used)."""
    parts = urlsplit(value)
    if "\\" in value or "@" in parts.netloc or not parts.hostname:
        raise ValueError(f"{value!r} is not a plain https://host/path URL")
    if parts.scheme == "https" or (parts.scheme == "http" and LOOPBACK_HOSTS.match(parts.hostname)):
        return value
    raise ValueError(f"{value!r} must be an https:// URL (http:// only on a loopback address)")


class CloudEndureConfig(_Section):
    api_url: Annotated[str, Field(pattern=r"^https?://\S+$"), AfterValidator(_api_url)] = (
        "https://console.cloudendure.com/api/latest"
    )
    project_name: Annotated[str, Field(min_length=1, max_length=256)]
    api_token_secret_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")]
    read_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 15


class DrsConfig(_Section):
    """AWS Elastic Disaster Recovery. `machines` and `webserverMachine` name source servers by
    `identifyBy`: their hostname (`sourceProperties.identificationHints.hostname`, the default)
    or their source server ID (`s-...`). With `machines: "all"`, `tags` narrows "all" to the
    source servers that carry every one of these tags."""

    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] | None = None  # default: the stack's
    identify_by: Literal["hostname", "sourceServerId"] = "hostname"
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]] = {}


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

    @model_validator(mode="after")
    def _drill_record_is_not_production(self) -> Self:
        # Both names are normalised (lower case, no trailing dot) by the time this runs.
        if self.drill_record_name is not None and self.drill_record_name == self.record_name:
            raise ValueError(
                f"drillRecordName must differ from recordName ({self.record_name}): a drill would switch production DNS"
            )
        return self


class HealthCheckConfig(_Section):
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/"
    expected_text: Annotated[str, Field(min_length=1, max_length=1024, pattern=r"\S")]  # not just blanks
    scheme: Literal["http", "https"] = "http"
    # The site's name the probe sends (Host header; for https also SNI, and the name the
    # certificate must be valid for) while connecting to the recovered instance's address.
    # Default: the record this run switches (dns.recordName, or dns.drillRecordName in a drill).
    host_name: Annotated[str, AfterValidator(_hostname)] | None = None
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


class PrimaryHealthCheckConfig(_Section):
    """The Route 53 health check the stack creates on the primary site when no alarm is named."""

    fqdn: Annotated[str, AfterValidator(_hostname)]
    port: Annotated[int, Field(ge=1, le=65_535)] = 80
    type: Literal["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"] = "HTTP"
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/"
    search_string: Annotated[str, Field(max_length=255)] | None = None
    failure_threshold: Annotated[int, Field(ge=1, le=10)] = 3
    alarm_evaluation_periods: Annotated[int, Field(ge=1, le=60)] = 2


class TriggerConfig(_Section):
    """How alarms start failovers: which alarms, approval, and de-duplication."""

    alarm_names: list[Annotated[str, Field(min_length=1, max_length=255, pattern=ALARM_NAME)]] = []
    primary_health_check: PrimaryHealthCheckConfig | None = None
    approval: Literal["auto", "approve"] = "auto"
    approval_timeout_seconds: Annotated[int, Field(ge=1, le=86_400)] = 900
    on_approval_timeout: Literal["proceed", "abort"] = "abort"
    cooldown_seconds: Annotated[int, Field(ge=0, le=7 * 86_400)] = 3600

    @model_validator(mode="after")
    def _has_a_source(self) -> Self:
        if not self.alarm_names and self.primary_health_check is None:
            raise ValueError("give alarmNames, or a primaryHealthCheck for the stack to create one with its alarm")
        return self


class ReadinessConfig(_Section):
    """Continuous readiness: a schedule starts a dry run of every check a recovery makes before
    launching, every `rateMinutes`; its verdict becomes metrics, an alarm and `dr-autopilot status`.
    The bounds: more often than every 5 minutes only costs provider API calls and executions; at
    most 12 hours, so that the alarm on a missing verdict (two rates) fits CloudWatch's one-day
    evaluation limit."""

    enabled: bool = True
    rate_minutes: Annotated[int, Field(ge=5, le=720)] = 60


class NotificationConfig(_Section):
    emails: list[Annotated[str, AfterValidator(_email)]] = []


MAX_WAVES = 10  # a recovery plan's waves: each is a launch, a job and a check, in the state


class WaveCheckConfig(_Section):
    """Whether a wave's service answers, on a machine's address, before the next wave launches."""

    machine: Annotated[str, Field(min_length=1)]  # launched in this wave or an earlier one
    protocol: Literal["tcp", "http"] = "tcp"  # tcp: a connection is accepted; http: GET path answers expectedStatus
    port: Annotated[int, Field(ge=1, le=65_535)] | None = None  # default: healthCheck.port
    path: Annotated[str, Field(pattern=r"^/\S*$")] = "/"
    expected_status: Annotated[int, Field(ge=100, le=599)] = 200
    timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 300  # give up (stop the plan) after this long
    interval_seconds: Annotated[int, Field(ge=1, le=300)] = 10


class WaveConfig(_Section):
    """One wave of a recovery plan: its machines (names, or DRS tags), launched together; then an
    optional check and an optional pause before the next wave."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w .-]{0,63}$")]
    machines: Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | None = None
    tags: dict[Annotated[str, Field(min_length=1, max_length=128)], Annotated[str, Field(max_length=256)]] | None = None
    check: WaveCheckConfig | None = None
    pause_seconds: Annotated[int, Field(ge=0, le=3600)] = 0

    @model_validator(mode="after")
    def _names_or_tags(self) -> Self:
        if (self.machines is None) == (self.tags is None) or self.tags == {}:
            raise ValueError(f"wave {self.name!r}: give its machines (names) or its tags (DRS), one of the two")
        return self


class DrillConfig(_Section):
    """What a drill does once its site is up and checked: hold it for people to look at, then
    clean up (terminate the drill's instances, put the drill record back)."""

    # 0: clean up at once. `dr-autopilot drill-cleanup EXECUTION` ends a hold early.
    hold_minutes: Annotated[int, Field(ge=0, le=1440)] = 30
    clean_up: bool = True


class FailoverConfig(_Section):
    provider: Literal["cloudendure", "drs"] = "cloudendure"
    cloudendure: CloudEndureConfig | None = None
    drs: DrsConfig | None = None
    machines: Literal["all"] | Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]
    webserver_machine: Annotated[str, Field(min_length=1)]
    replication: ReplicationConfig = ReplicationConfig()
    dns: DnsConfig
    health_check: HealthCheckConfig
    job: JobConfig = JobConfig()
    notifications: NotificationConfig = NotificationConfig()
    trigger: TriggerConfig | None = None
    drill: DrillConfig = DrillConfig()
    waves: Annotated[list[WaveConfig], Field(min_length=1, max_length=MAX_WAVES)] | None = None
    readiness: ReadinessConfig = ReadinessConfig()
    rto_objective_seconds: Annotated[int, Field(ge=60, le=86_400)] = 1800
    workflow_timeout_seconds: Annotated[int, Field(ge=300, le=86_400)] = 7200

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        self._fits_in_the_workflow_timeout()
        if self.provider == "cloudendure" and self.cloudendure is None:
            raise ValueError("provider 'cloudendure' needs a 'cloudendure' section")
        if self.provider == "drs" and self.drs is None:
            raise ValueError("provider 'drs' needs a 'drs' section (it may be empty: {})")
        if self.drs is not None and self.drs.tags and self.machines != "all":
            raise ValueError('drs.tags narrows machines "all"; with a list of machines, leave it out')
        if self.drs is not None and self.drs.identify_by == "sourceServerId":
            names = [*([] if self.machines == "all" else self.machines), self.webserver_machine]
            wrong = [name for name in names if not SOURCE_SERVER_ID.fullmatch(name)]
            if wrong:
                raise ValueError(
                    f"drs.identifyBy is sourceServerId, but machines / webserverMachine name {', '.join(wrong[:3])}: "
                    "give source server IDs (s- and 17 letters or digits), or identifyBy hostname"
                )
        if isinstance(self.machines, list):
            if len(set(self.machines)) != len(self.machines):
                raise ValueError("machines lists a machine twice")
            if self.webserver_machine not in self.machines:
                raise ValueError(f"webserverMachine {self.webserver_machine!r} is not in machines")
        if self.waves is not None:
            self._a_plan_of_the_machines(self.waves)
        return self

    def _a_plan_of_the_machines(self, waves: list[WaveConfig]) -> None:
        """Every machine in exactly one wave; each check on a machine of its wave or an earlier one.
        Tags select DRS source servers, so only DRS plans may use them (and then the provider puts
        each server in one wave, or refuses the run before launching)."""
        names = [wave.name for wave in waves]
        if len(set(names)) != len(names):
            raise ValueError("waves: two waves have the same name")
        if any(wave.tags for wave in waves):
            if self.provider != "drs":
                raise ValueError("waves: tags select DRS source servers; with CloudEndure give each wave its machines")
            return
        planned = [name for wave in waves for name in wave.machines or []]
        twice = sorted({name for name in planned if planned.count(name) > 1})
        if twice:
            raise ValueError(f"waves: {', '.join(twice[:5])} is in more than one wave")
        if isinstance(self.machines, list):
            missing = [name for name in self.machines if name not in planned]
            extra = [name for name in planned if name not in self.machines]
            if missing or extra:
                raise ValueError(
                    "waves must hold exactly the configured machines: "
                    + "; ".join(
                        part
                        for part in (
                            f"not in any wave: {', '.join(missing[:5])}" if missing else "",
                            f"not in machines: {', '.join(extra[:5])}" if extra else "",
                        )
                        if part
                    )
                )
        elif self.webserver_machine not in planned:
            raise ValueError(f"waves: webserverMachine {self.webserver_machine!r} is in no wave")
        seen: list[str] = []
        for wave in waves:
            seen += wave.machines or []
            if wave.check is not None and wave.check.machine not in seen:
                raise ValueError(
                    f"waves: the check of wave {wave.name!r} probes {wave.check.machine!r}, which is not launched "
                    "by then (give a machine of that wave or of an earlier one)"
                )

    def _fits_in_the_workflow_timeout(self) -> None:
        """The waits a run may need must fit in the execution's timeout, or the run just times out
        (and, for example, `onApprovalTimeout: proceed` could never happen)."""
        health = self.health_check
        waves = self.waves or []
        parts = {
            (f"job.timeoutSeconds x {len(waves)} wave(s)" if waves else "job.timeoutSeconds"): self.job.timeout_seconds
            * max(1, len(waves)),
            **(
                {
                    "the waves' checks and pauses": sum(
                        w.pause_seconds + (w.check.timeout_seconds if w.check else 0) for w in waves
                    )
                }
                if waves
                else {}
            ),
            "healthCheck.maxAttempts x (intervalSeconds + timeoutSeconds)": int(
                health.max_attempts * (health.interval_seconds + health.timeout_seconds)
            ),
            f"dns.insyncTimeoutSeconds x {DNS_ATTEMPTS} attempts": self.dns.insync_timeout_seconds * DNS_ATTEMPTS,
            "margin for the other steps and their retries": WORKFLOW_MARGIN_SECONDS,
        }
        # Alarm-started recoveries may wait for approval; drills hold their site, then clean up.
        runs = {"recovery": dict(parts), "drill": dict(parts)}
        if self.trigger is not None and self.trigger.approval == "approve":
            runs["recovery"]["trigger.approvalTimeoutSeconds"] = self.trigger.approval_timeout_seconds
        if self.drill.clean_up:
            runs["drill"]["drill.holdMinutes x 60"] = self.drill.hold_minutes * 60
            runs["drill"]["the drill's clean-up"] = CLEANUP_SECONDS
        for kind, needs in runs.items():
            needed = sum(needs.values())
            if needed >= self.workflow_timeout_seconds:
                listed = " + ".join(f"{name} {seconds}" for name, seconds in needs.items())
                raise ValueError(
                    f"workflowTimeoutSeconds {self.workflow_timeout_seconds} is too short: a {kind} may need {listed} "
                    f"= {needed} s; raise workflowTimeoutSeconds or lower those timeouts"
                )

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
                # pydantic names union branches in the location; an unknown key is its own location
                tags = () if item["type"] == "extra_forbidden" else ("function-", "literal[", "list[")
                path = ".".join(str(part) for part in (source, *item["loc"]) if not str(part).startswith(tags))
                problems.append(f"  {path}: {item['msg']}")
            raise ConfigError(f"invalid configuration ({len(problems)} problem(s)):\n" + "\n".join(problems)) from None

    def to_environment(self) -> str:
        return self.model_dump_json(by_alias=True)
