"""SNS: publish a message a person can read."""

from __future__ import annotations

from typing import Any

from dr_autopilot.clients.aws import client


class Notifier:
    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns or client("sns")

    def publish(self, subject: str, message: str) -> str:
        """Publish to the topic; a repeated publish only repeats the message (harmless)."""
        answer = self._sns.publish(TopicArn=self._topic_arn, Subject=subject[:100], Message=message)
        return str(answer["MessageId"])
