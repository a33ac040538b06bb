"""A local CloudEndure v5 API emulator: `python -m local.cloudendure --help`."""

from local.cloudendure.clock import Clock
from local.cloudendure.scenario import Scenario, ScenarioError, available_scenarios, load_scenario
from local.cloudendure.server import CloudEndureEmulator

__all__ = ["Clock", "CloudEndureEmulator", "Scenario", "ScenarioError", "available_scenarios", "load_scenario"]
