"""ReportEnd: every end the workflow could not report itself gets exactly one truthful message."""

from __future__ import annotations

import json
from typing import Any

from dr_autopilot.config import CONTEXT_KEY, FailoverConfig
from dr_autopilot.logic.report_end import report_end
from dr_autopilot.models import EndedExecution

from local.environment import base_context
from tests.fakes import FakeLock, RecordingPublisher, RecordingRecords, messenger, provider_not_asked

CONFIG = FailoverConfig.parse(base_context()[CONTEXT_KEY])
ARN = "arn:aws:states:eu-west-1:123456789012:execution:Failover:run-1"
REQUEST = {
    "mode": "recovery",
    "force": False,
    "dryRun": False,
    "requestedBy": "alice",
    "reason": "",
    "trigger": "console",
    "executionId": ARN,
    "executionName": "run-1",
    "startedAt": "2026-11-25T03:00:00Z",
}
LOCK = {"acquired": True, "holder": ARN}
LAUNCH = {"jobId": "job-7", "launchType": "RECOVERY", "machineCount": 2, "launchedAt": "2026-11-25T03:01:00Z"}


def entered(name: str) -> dict[str, Any]:
    return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name}}


def exited(name: str, state: dict[str, Any]) -> dict[str, Any]:
    return {"type": "TaskStateExited", "stateExitedEventDetails": {"name": name, "output": json.dumps(state)}}


def ended(status: str, error: str | None = None, cause: str | None = None) -> EndedExecution:
    return EndedExecution.model_validate(
        {
            "executionArn": ARN,
            "stateMachineArn": "arn:sm",
            "name": "run-1",
            "status": status,
            "error": error,
            "cause": cause,
        }
    )


def run_until_polling() -> list[dict[str, Any]]:
    """A history that got as far as polling the launch job."""
    state = {"request": REQUEST}
    events = [entered("ValidateInput"), exited("ValidateInput", state)]
    state = {**state, "lock": LOCK}
    events += [entered("AcquireLock"), exited("AcquireLock", state)]
    state = {**state, "launch": LAUNCH}
    events += [entered("LaunchRecovery"), exited("LaunchRecovery", state), entered("PollJob")]
    return events


def test_a_timed_out_run_says_what_it_launched_and_releases_its_lock() -> None:
    # Given a run that timed out while polling the launch job it had started
    publisher, lock = RecordingPublisher(), FakeLock(holder=ARN)
    # When its end is reported
    summary = report_end(
        ended("TIMED_OUT"),
        run_until_polling(),
        CONFIG,
        RecordingRecords(),
        provider_not_asked,
        lock,
        messenger(publisher),
    )
    # Then one final message says it timed out, names the launch job and says DNS was not changed
    assert summary is not None and summary.outcome == "TIMED_OUT"
    (subject, text), *_ = publisher.messages
    assert subject == "[DR Autopilot] recovery timed out" and len(publisher.messages) == 1
    assert "Launch job job-7 (RECOVERY) was started" in text
    assert "DNS www.example.com A was not changed" in text
    # And the run's hold on the lock ends, so on-call can start again
    assert ("release", ARN) in lock.calls


def report_aborted(events: list[dict[str, Any]]) -> RecordingPublisher:
    """ReportEnd on an ABORTED run whose lock it holds; what it published."""
    publisher = RecordingPublisher()
    report_end(
        ended("ABORTED"),
        events,
        CONFIG,
        RecordingRecords(),
        provider_not_asked,
        FakeLock(holder=ARN),
        messenger(publisher),
    )
    return publisher


def test_an_aborted_launch_step_says_a_launch_may_have_started() -> None:
    # Given a run aborted while LaunchRecovery was running (no result recorded)
    events = [*run_until_polling()[:4], entered("LaunchRecovery")]
    # When its end is reported
    publisher = report_aborted(events)
    # Then it does not claim that nothing was launched
    ((subject, text),) = publisher.messages
    assert subject == "[DR Autopilot] recovery aborted"
    assert "a launch job may have been started" in text and "No launch was started" not in text


def test_an_abort_while_dns_was_being_switched_says_dns_may_be_switched() -> None:
    # Given a run aborted while UpdateDns was running, after its target passed the health check
    # (the function runs on after the abort; found by the red team: the message said "not changed")
    target = {"machineName": "WebServer", "address": "198.51.100.7", "addressSource": "replica"}
    health = {"healthy": True, "url": "http://198.51.100.7/", "attempts": 1, "checkedAt": "2026-11-25T03:10:00Z"}
    state = {"request": REQUEST, "lock": LOCK, "launch": LAUNCH, "target": target, "health": health}
    events = [*run_until_polling(), exited("PollJob", state), entered("UpdateDns")]
    # When its end is reported (the record has not moved yet)
    publisher = report_aborted(events)
    # Then the message warns that DNS may be switched to that webserver, and does not say "not changed"
    ((_, text),) = publisher.messages
    assert "UpdateDns was still running" in text and "may be switched to the recovered webserver 198.51.100.7" in text
    assert "was not changed" not in text


def test_a_run_the_workflow_reported_itself_gets_no_second_message() -> None:
    # Given a failed run whose ReportFailure step finished (its message was sent)
    events = [*run_until_polling(), exited("PollJob", {"request": REQUEST}), entered("ReportFailure")]
    events.append(exited("ReportFailure", {"request": REQUEST, "summary": {}}))
    publisher = RecordingPublisher()
    # When its end is reported
    # Then nothing more is sent
    assert (
        report_end(
            ended("FAILED", "JobFailed"),
            events,
            CONFIG,
            RecordingRecords(),
            provider_not_asked,
            FakeLock(),
            messenger(publisher),
        )
        is None
    )
    assert publisher.messages == []


def test_refused_input_gets_one_message_saying_nothing_was_started() -> None:
    # Given a run whose input was refused before any request existed
    publisher = RecordingPublisher()
    cause = '{"errorType": "InvalidInput", "errorMessage": "invalid failover input: mode: ...", "stackTrace": []}'
    # When its end is reported
    report_end(
        ended("FAILED", "InvalidInput", cause),
        [entered("ValidateInput")],
        CONFIG,
        RecordingRecords(),
        provider_not_asked,
        FakeLock(),
        messenger(publisher),
    )
    # Then one message names the refusal and says nothing was started
    ((subject, text),) = publisher.messages
    assert subject == "[DR Autopilot] failover input refused"
    assert "invalid failover input: mode" in text and "Nothing was launched" in text and "stackTrace" not in text


def test_a_failure_report_that_could_not_be_sent_is_sent_by_report_end() -> None:
    # Given a failed run whose ReportFailure step itself failed (SNS down) and was caught, so the
    # step was left without a summary (found by the red team)
    state = {"request": REQUEST, "lock": LOCK, "launch": LAUNCH}
    events = [*run_until_polling(), exited("PollJob", state), entered("ReportFailure")]
    events.append(exited("ReportFailure", {**state, "reportError": {"Error": "NotificationFailed"}}))
    publisher, lock = RecordingPublisher(), FakeLock(holder=ARN)
    # When its end is reported (SNS is back)
    summary = report_end(
        ended("FAILED", "JobFailed"), events, CONFIG, RecordingRecords(), provider_not_asked, lock, messenger(publisher)
    )
    # Then the one final message is sent now, naming the launch job, and the lock is released
    assert summary is not None
    ((subject, text),) = publisher.messages
    assert subject == "[DR Autopilot] recovery failed" and "Launch job job-7" in text
    assert ("release", ARN) in lock.calls
