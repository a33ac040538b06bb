"""One local environment for all workflow tests: the emulator, local AWS and the state machine
synthesized from the real CDK app, deployed once; each test resets the site to its scenario."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.environment import PRIMARY_ADDRESS, ExecutionResult, LocalFailoverEnvironment

TIME_SCALE = 240.0  # a 240 s recovery job takes one real second
# Wait states and Retry intervals pass 10x faster in the local interpreter: the tests assert what
# happens, not how long the definition's intervals are (the template tests assert those).
INTERPRETER_TIME_SCALE = 10.0


@pytest.fixture(scope="session")
def environment() -> Iterator[LocalFailoverEnvironment]:
    with LocalFailoverEnvironment(
        "two-tier", time_scale=TIME_SCALE, interpreter_time_scale=INTERPRETER_TIME_SCALE
    ) as env:
        yield env


@pytest.fixture(scope="session")
def drs_environment() -> Iterator[LocalFailoverEnvironment]:
    """The same, with "provider": "drs" against the local DRS, in a session of its own."""
    with LocalFailoverEnvironment(
        "two-tier", provider="drs", time_scale=TIME_SCALE, interpreter_time_scale=INTERPRETER_TIME_SCALE
    ) as env:
        yield env


@pytest.fixture
def provider_name() -> str:
    """The provider of `env`: CloudEndure, unless the test runs on both (`ON_BOTH_PROVIDERS`)."""
    return "cloudendure"


# A test marked so runs once per provider. The DRS variants need a local AWS of their own (moto's
# state is one per process, and two deployments of the stack collide in it): they carry the
# drs_environment mark, which the default session leaves out and `make test` runs as a second
# session beside it (`pytest -m drs_environment -n 0`).
ON_BOTH_PROVIDERS = pytest.mark.parametrize(
    "provider_name", ["cloudendure", pytest.param("drs", marks=pytest.mark.drs_environment)]
)


@pytest.fixture
def env(request: pytest.FixtureRequest, provider_name: str) -> Iterator[LocalFailoverEnvironment]:
    """The environment reset to 'primary down, two-tier replicating'; tests may reset to another scenario."""
    if provider_name == "drs" and not request.node.get_closest_marker("drs_environment"):
        pytest.fail("a test on the DRS environment must carry the drs_environment mark: it runs in its own session")
    environment: LocalFailoverEnvironment = request.getfixturevalue(
        "drs_environment" if provider_name == "drs" else "environment"
    )
    environment.reset_site("two-tier")
    yield environment
    environment.aws.runtime.disarm()


def assert_failed_safely(
    env: LocalFailoverEnvironment, result: ExecutionResult, error: str, cause_words: str, launches: int
) -> None:
    """The three promises of every failure path: DNS unchanged, at most one launch, and an SNS
    message that names the cause (and says what was and was not changed)."""
    assert result.status == "FAILED"
    assert result.error == error
    assert env.site.record_values() == [PRIMARY_ADDRESS]
    assert env.provider.launches_accepted == launches <= 1
    messages = [m for m in env.site.notifications() if m["subject"].endswith("failed")]
    assert len(messages) == 1, messages
    text = messages[0]["message"]
    assert error in text and cause_words in text
    assert "was not changed: it still points at " + PRIMARY_ADDRESS in text
    assert ("Launch job" in text) == (launches == 1)
