"""Each function's environment, parsed once per cold start into typed settings."""

from __future__ import annotations

import json
import os
from functools import cache

from pydantic import BaseModel, ConfigDict

from dr_autopilot.config import ConfigError, FailoverConfig
from dr_autopilot.environment import Variable


class Settings(BaseModel):
    """The validated configuration, and the other variables the stack gave this function."""

    model_config = ConfigDict(frozen=True)

    config: FailoverConfig
    variables: dict[Variable, str]

    def require(self, variable: Variable) -> str:
        """The variable's value; ConfigError naming it when the function has none (or an empty one)."""
        value = self.variables.get(variable)
        if not value:
            raise ConfigError(
                f"environment variable {variable.value} is not set, but this function needs it; "
                "the stack sets it from the state table (dr_autopilot/states.py)"
            )
        return value


@cache
def settings() -> Settings:
    """The function's settings; ConfigError naming the variable when one is missing or wrong."""
    raw = os.environ.get(Variable.CONFIG)
    if not raw:
        raise ConfigError(f"environment variable {Variable.CONFIG.value} is not set")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ConfigError(f"environment variable {Variable.CONFIG.value} is not JSON: {error.msg}") from None
    variables = {variable: os.environ[variable] for variable in Variable if os.environ.get(variable)}
    return Settings(config=FailoverConfig.parse(parsed, source=Variable.CONFIG.value), variables=variables)
