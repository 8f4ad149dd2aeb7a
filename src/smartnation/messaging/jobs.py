"""Messaging jobs: deliver one queued notification (retried with backoff while the provider is
busy), the nightly retention purge, and the broadcast dispatcher every worker runs beside the
job queue."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from smartnation.core.clock import utcnow
from smartnation.core.jobs import background_loop, job, periodic
from smartnation.messaging import delivery, dispatch, retention, service
from smartnation.messaging.channels.base import DeliveryStatus
from smartnation.messaging.models import Message


@job(service.DELIVER_JOB, max_attempts=8, backoff_seconds=2.0)
def deliver(session: Session, payload: dict[str, Any]) -> None:
    """Send a queued notification. Safe to run twice: only a queued message is sent."""
    message = session.get(Message, int(payload["message_id"]), with_for_update=True)
    if message is None or message.status != DeliveryStatus.QUEUED.value:
        return
    message.attempts += 1
    result = delivery.send_now(message)
    if result.accepted:
        message.provider_message_id = result.provider_message_id
        service.record_status(session, message, DeliveryStatus.SENT, at=utcnow())
        if (result.provider_message_id or "").startswith("local-"):
            # The local stand-in is the recipient's inbox: it has the message at once.
            service.record_status(session, message, DeliveryStatus.DELIVERED, at=utcnow())
        service.audit_sent(session, message)
        return
    failure = result.failure
    assert failure is not None
    if delivery.is_permanent(result):
        message.error = f"{failure.code}: {failure.text}"[:2000]
        service.record_status(
            session, message, DeliveryStatus.FAILED, detail={"code": failure.code}
        )
        return
    # Rate limited or a passing fault: roll back and let the job retry with backoff.
    raise delivery.RetryLater(f"{failure.code}: {failure.text}")


RETENTION_JOB = "messaging.retention"


@job(RETENTION_JOB, max_attempts=3, backoff_seconds=60.0)
def purge_old_messages(session: Session, payload: dict[str, Any]) -> None:
    """Purge final message rows past retention (audited)."""
    retention.purge_expired(session)


periodic(RETENTION_JOB, every=timedelta(days=1))

# Broadcast rows are claimed by the dispatcher in windows, not as one job per message.
background_loop("messaging.broadcasts")(dispatch.run_dispatcher)
