"""The test session synthesizes each local stack once, with stand-ins for each environment's own
ports and zone: the template an environment deploys must equal its own direct synth."""

from __future__ import annotations

import pytest
from dr_autopilot.config import CONTEXT_KEY, FailoverConfig

from local.environment import STAND_INS, SynthError, base_context, drill_overrides, localize, merge, synthesize_uncached


def test_a_template_synthesized_with_stand_ins_and_localized_equals_the_direct_synth() -> None:
    # Given an environment's own values (API port, landing port, zone id) and a reconfiguration
    real = merge(
        merge(base_context(), drill_overrides("http://127.0.0.1:41234/api/latest", 41235, "Z0REALZONE0001")),
        {CONTEXT_KEY: {"trigger": {"approval": "approve"}}},
    )
    stand_in = merge(
        merge(base_context(), drill_overrides(*STAND_INS)), {CONTEXT_KEY: {"trigger": {"approval": "approve"}}}
    )
    # When the stand-in template is localized to those values
    shared = localize(
        synthesize_uncached(stand_in),
        FailoverConfig.parse(stand_in[CONTEXT_KEY]),
        FailoverConfig.parse(real[CONTEXT_KEY]),
        "Z0REALZONE0001",
    )
    # Then it is exactly the template a direct synth with those values gives
    assert shared == synthesize_uncached(real)


def test_a_stand_in_outside_the_configuration_is_refused() -> None:
    # Given a template in which the stand-in port appears somewhere else than the configuration
    config = FailoverConfig.parse(merge(base_context(), drill_overrides(*STAND_INS))[CONTEXT_KEY])
    template = {"Resources": {"Rule": {"Properties": {"Port": str(STAND_INS[1])}}}}
    # When it is localized
    # Then it is refused, saying why (the environment would otherwise deploy a wrong template)
    with pytest.raises(SynthError, match="outside the configuration variable"):
        localize(template, config, config, "Z0REALZONE0001")
