"""Handler of the PollJob state."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from dr_autopilot import dependencies
from dr_autopilot.logic import progress
from dr_autopilot.logic.poll_job import poll_job
from dr_autopilot.models import ProviderJobStatus, WorkflowState
from dr_autopilot.observability import instrumented, logger, metrics
from dr_autopilot.settings import settings
from dr_autopilot.states import StateName


@instrumented(StateName.POLL_JOB)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    state = WorkflowState.model_validate(event)
    job = poll_job(state, dependencies.provider(), settings().config.job)
    for line in job.new_log_lines:
        logger.info("Job log", extra={"line": line})
    first_seen = job.converters_finished and not (state.job and state.job.converters_finished)
    if first_seen and state.launch is not None:
        progress.notify(dependencies.publisher(), progress.converters_finished(state.request, job, state.launch))
    if job.status is ProviderJobStatus.COMPLETED:
        metrics.add_metric(name="JobDurationSeconds", unit="Seconds", value=job.elapsed_seconds)
    return job.dump()
