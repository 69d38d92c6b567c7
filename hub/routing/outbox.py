"""The transactional outbox: what the envelope service calls when it accepts envelopes.

The outbox row is written in the submission's own transaction, so "accepted" and "must be
routed" commit together or not at all; the relay publishes after the commit. A crash between
the commit and the publication loses nothing: the row is still there for the next relay.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.envelopes.models import EnvelopeRecord
from hub.routing import repository


def enqueue(session: AsyncSession, records: Iterable[EnvelopeRecord], *, now: datetime) -> None:
    """Record, in the caller's transaction, that each (flushed) record must reach its box."""
    repository.add_to_outbox(session, records, now)
