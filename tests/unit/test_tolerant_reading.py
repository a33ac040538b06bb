"""What the client only reads, it reads tolerantly: an old job of a type it does not use never
stops a failover; what a decision depends on (the status) stays strict."""

from __future__ import annotations

import pytest
from dr_autopilot.errors import InvalidResponse
from dr_autopilot.providers.cloudendure.models import Job, JobType

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


def test_an_unknown_status_is_read_in_the_list_but_never_decided_on() -> None:
    # Given an old job whose status the client does not know (found by the red team: one such job in
    # the history made every real run fail while dry runs passed)
    # When the client reads it
    job = Job.model_validate({**JOB, "type": "RECOVERY_LAUNCH", "status": "CANCELED"})
    # Then it is read as it is
    assert job.status == "CANCELED"
    # And a decision that depends on it is refused (the pipeline never guesses whether a job finished)
    with pytest.raises(InvalidResponse, match="job-1 has a status the API does not document: 'CANCELED'"):
        job.known_status()
