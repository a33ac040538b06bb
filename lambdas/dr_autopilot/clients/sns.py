"""SNS: publish a message a person can read."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from dr_autopilot.clients.aws import client
from dr_autopilot.errors import NotificationFailed

SUBJECT_LIMIT = 100  # SNS refuses longer subjects


class SnsPublisher:
    """The notification topic (satisfies `ports.Publisher`)."""

    def __init__(self, topic_arn: str, sns: Any | None = None) -> None:
        self._topic_arn = topic_arn
        self._sns = sns or client("sns")

    def publish(self, subject: str, message: str) -> str:
        """Publish to the topic; a repeated publish only repeats the message (harmless)."""
        try:
            answer = self._sns.publish(TopicArn=self._topic_arn, Subject=subject[:SUBJECT_LIMIT], Message=message)
        except (ClientError, BotoCoreError) as error:
            raise NotificationFailed(f"could not publish {subject!r}: {error}") from error
        return str(answer["MessageId"])
