"""The final message of an execution goes out exactly once, and never gets lost to the ledger."""

from __future__ import annotations

import pytest
from dr_autopilot.errors import FinalMessageInFlight, NotificationFailed

from tests.fakes import MemoryLedger, RecordingPublisher, messenger

ARN = "arn:aws:states:eu-west-1:123456789012:execution:Failover:run-1"


def test_a_second_attempt_after_the_message_went_out_sends_nothing() -> None:
    # Given a final message that was sent once
    publisher, ledger = RecordingPublisher(), MemoryLedger()
    assert messenger(publisher, ledger).send(ARN, "[DR Autopilot] recovery succeeded", "body") is True
    # When a retried report step (or ReportEnd) sends it again
    again = messenger(publisher, ledger).send(ARN, "[DR Autopilot] recovery failed", "other body")
    # Then nothing more is published
    assert again is False
    assert [subject for subject, _ in publisher.messages] == ["[DR Autopilot] recovery succeeded"]
    assert ledger.state == {ARN: "SENT"}


def test_a_publish_that_failed_leaves_the_message_to_the_next_attempt() -> None:
    # Given SNS fails the first attempt
    ledger = MemoryLedger()
    with pytest.raises(NotificationFailed):
        messenger(RecordingPublisher(failing=True), ledger).send(ARN, "subject", "body")
    # When the step is retried and SNS answers
    publisher = RecordingPublisher()
    sent = messenger(publisher, ledger).send(ARN, "subject", "body")
    # Then the retry sends the message
    assert sent is True and publisher.messages == [("subject", "body")]


def test_a_ledger_that_is_down_does_not_silence_the_message() -> None:
    # Given the ledger (the lock table) fails every call
    publisher = RecordingPublisher()
    # When the final message is sent
    sent = messenger(publisher, MemoryLedger(down=True)).send(ARN, "subject", "body")
    # Then it is published anyway (a repeat is better than silence)
    assert sent is True and publisher.messages == [("subject", "body")]


def test_each_execution_has_its_own_final_message() -> None:
    # Given one execution's message was sent
    publisher, ledger = RecordingPublisher(), MemoryLedger()
    messenger(publisher, ledger).send(ARN, "first", "body")
    # When another execution sends its own
    sent = messenger(publisher, ledger).send(ARN.replace("run-1", "run-2"), "second", "body")
    # Then both went out
    assert sent is True and [subject for subject, _ in publisher.messages] == ["first", "second"]


def test_a_claim_held_by_another_attempt_is_never_taken_for_sent() -> None:
    # Given an attempt claimed the message and died before publishing, its claim not yet lapsed
    # (found by the red team: the retry took the claim for "sent" and the run ended silent)
    ledger = MemoryLedger(state={ARN: "SENDING"})
    publisher = RecordingPublisher()
    # When the retry sends the final message
    # Then it fails as FinalMessageInFlight (the workflow retries it until the claim lapses)
    with pytest.raises(FinalMessageInFlight):
        messenger(publisher, ledger).send(ARN, "subject", "body")
    assert publisher.messages == []
