"""A local AWS Elastic Disaster Recovery (DRS) API emulator: `python -m local.drs --help`."""

from local.cloudendure.clock import Clock
from local.drs.fleet import InMemoryFleet, InstanceFleet, RecoveryHosts
from local.drs.scenario import FaultSpec, Scenario, ScenarioError, available_scenarios, load_scenario
from local.drs.server import DrsEmulator

__all__ = [
    "Clock",
    "DrsEmulator",
    "FaultSpec",
    "InMemoryFleet",
    "InstanceFleet",
    "RecoveryHosts",
    "Scenario",
    "ScenarioError",
    "available_scenarios",
    "load_scenario",
]
