"""What the client only reads, it reads tolerantly: an old job of a type it does not use never
stops a failover; what a decision depends on (the status) stays strict."""

from __future__ import annotations

import pytest
from dr_autopilot.providers.cloudendure.models import Job, JobType
from pydantic import ValidationError

JOB = {
    "id": "job-1",
    "status": "COMPLETED",
    "participatingMachines": ["m-1"],
    "creationDateTime": "2026-11-25T03:00:00Z",
}


@pytest.mark.parametrize("job_type", [*(t.value for t in JobType), "SOME_TYPE_ADDED_NEXT_YEAR"])
def test_every_job_type_of_the_api_and_an_unknown_one_are_read(job_type: str) -> None:
    # Given a job of any type the API lists, or one it may add
    # When the client reads it
    job = Job.model_validate({**JOB, "type": job_type})
    # Then it is read as it is
    assert job.type == job_type


def test_a_status_the_decisions_depend_on_stays_strict() -> None:
    # Given a job whose status the client does not know
    # When the client reads it
    # Then it is refused (the pipeline never guesses whether a job finished)
    with pytest.raises(ValidationError):
        Job.model_validate({**JOB, "type": "RECOVERY_LAUNCH", "status": "SOMETHING"})
