"""Publish a progress message if the function has a topic (a failed publish never fails a step)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from dr_autopilot.clients.sns import Notifier
from dr_autopilot.observability import logger
from dr_autopilot.settings import settings


def notify(message: tuple[str, str]) -> None:
    """Progress messages are best effort: losing one must not stop a failover half-way."""
    topic = settings().topic_arn
    if not topic:
        return
    subject, body = message
    try:
        Notifier(topic).publish(subject, body)
    except (ClientError, BotoCoreError) as error:
        logger.warning("Progress notification not sent", extra={"subject": subject, "error": str(error)})
