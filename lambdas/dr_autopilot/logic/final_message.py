"""The final message of an execution, sent exactly once.

ReportSuccess, ReportFailure and ReportEnd may each run more than once for one execution: a step
retried after it published (a timeout after the return), an end event delivered twice, ReportEnd
after a report step that published and then failed. Each claims the message in the ledger before
publishing and records it as sent after. A claim holds for the invocation's remaining time and
no longer, so a retry after a crash may send; a claim still held is never taken for "sent": the
attempt that meets it fails with FinalMessageInFlight and is retried. If the ledger itself is
down the message is sent anyway: a repeat is better than silence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dr_autopilot.errors import FinalMessageInFlight, ServiceUnavailable
from dr_autopilot.observability import logger
from dr_autopilot.ports import Claim, FinalMessageLedger, Publisher


@dataclass(frozen=True)
class FinalMessenger:
    publisher: Publisher
    ledger: FinalMessageLedger
    claim_seconds: int  # the invocation's remaining time: no one else sends meanwhile

    def send(self, execution_id: str, subject: str, body: str) -> bool:
        """Publish unless this execution's final message is out; True if sent here. Raises
        NotificationFailed if the publish failed (the claim is given back first), and
        FinalMessageInFlight while another attempt holds the claim (the step is retried)."""
        try:
            claim = self.ledger.claim(execution_id, self.claim_seconds)
        except ServiceUnavailable as error:
            logger.warning("Final-message ledger unavailable; sending anyway", extra={"error": str(error)})
            self.publisher.publish(subject, body)
            return True
        if claim is Claim.SENT:
            logger.info("Final message already sent", extra={"subject": subject})
            return False
        if claim is Claim.BUSY:  # never taken for "sent": that attempt may have died before publishing
            raise FinalMessageInFlight(f"another attempt is sending the final message of {execution_id}")
        try:
            self.publisher.publish(subject, body)
        except Exception:
            self._quietly(self.ledger.unclaim, execution_id)
            raise
        self._quietly(self.ledger.sent, execution_id)
        return True

    @staticmethod
    def _quietly(record: Callable[[str], None], execution_id: str) -> None:
        try:
            record(execution_id)
        except ServiceUnavailable as error:
            logger.warning("Final-message ledger not updated", extra={"error": str(error)})
