"""Read the failover configuration from the CDK context and validate it (synth fails on error)."""

from __future__ import annotations

from constructs import Node
from dr_autopilot.config import CONTEXT_KEY, ConfigError, FailoverConfig


def load_config(node: Node) -> FailoverConfig:
    raw = node.try_get_context(CONTEXT_KEY)
    if raw is None:
        raise ConfigError(f"cdk.json has no context key {CONTEXT_KEY!r}: copy the example from README.md")
    return FailoverConfig.parse(raw, source=CONTEXT_KEY)
