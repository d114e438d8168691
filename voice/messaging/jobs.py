"""The message job table's life: lease claims, state transitions, retries, the schema top-up.

States: received -> downloaded -> transcribed -> answered -> sent, or failed (with a reason).
A worker owns a job only while it holds its lease (lease_owner/lease_until). Claiming is a
compare-and-set UPDATE (no row may change hands while its lease is live), so it is safe between
threads, processes and machines on SQLite and PostgreSQL alike. Every transition is the same
compare-and-set on lease_owner: a worker that lost its lease (it stalled, another took over)
cannot write, and stops. A job that failed may still owe its sender an apology (notice=pending):
it is claimed again until that is sent.

One sender's messages are handled in arrival order: a job is not claimed while an earlier job
from the same sender is unfinished, so replies keep their order and the conversation history
never forks.
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, inspect, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased

from voice.store.db import Database
from voice.store.models import MediaBlob, MessageJob

log = logging.getLogger(__name__)

RECEIVED, DOWNLOADED, TRANSCRIBED, ANSWERED, SENT, FAILED = (
    "received",
    "downloaded",
    "transcribed",
    "answered",
    "sent",
    "failed",
)
ACTIVE = (RECEIVED, DOWNLOADED, TRANSCRIBED, ANSWERED)
PENDING_NOTICE = "pending"


class LeaseLost(Exception):
    """This worker no longer holds the job's lease: another worker owns it now."""


def now() -> datetime:
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive (they were stored as UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def ensure_schema(db: Database) -> None:
    """Create missing tables, and add the worker's nullable columns to an older message_jobs table."""
    db.create_all()
    columns = {c["name"] for c in inspect(db.engine).get_columns(MessageJob.__tablename__)}
    missing = [c for c in MessageJob.__table__.columns if c.name not in columns]
    if not missing:
        return
    for column in missing:
        kind = column.type.compile(dialect=db.engine.dialect)
        try:
            with db.engine.begin() as conn:
                conn.execute(
                    text(f'ALTER TABLE {MessageJob.__tablename__} ADD COLUMN "{column.name}" {kind}')
                )
        except DBAPIError:  # another process starting at the same moment added it first
            columns = {c["name"] for c in inspect(db.engine).get_columns(MessageJob.__tablename__)}
            if column.name not in columns:
                raise
    log.info("message_jobs: added columns %s", ", ".join(c.name for c in missing))


def _workable():
    """A job someone must still work on: unfinished, or failed with an apology still owed."""
    return or_(
        MessageJob.state.in_(ACTIVE),
        and_(MessageJob.state == FAILED, MessageJob.notice == PENDING_NOTICE),
    )


def _lease_free(at: datetime):
    return or_(MessageJob.lease_until.is_(None), MessageJob.lease_until < at)


class JobStore:
    def __init__(self, db: Database, lease_s: float):
        self.db = db
        self.lease_s = lease_s

    # -- claiming ---------------------------------------------------------------------------------
    def claim(self, owner: str, limit: int = 1) -> list[int]:
        """Lease up to `limit` due jobs for `owner` (oldest first); their ids."""
        at = now()
        earlier = aliased(MessageJob)
        blocked = exists().where(
            earlier.provider == MessageJob.provider,
            earlier.sender == MessageJob.sender,
            earlier.id < MessageJob.id,
            or_(earlier.state.in_(ACTIVE), and_(earlier.state == FAILED, earlier.notice == PENDING_NOTICE)),
        )
        due = or_(MessageJob.next_attempt_at.is_(None), MessageJob.next_attempt_at <= at)
        with self.db.session() as s:
            candidates = s.scalars(
                select(MessageJob.id)
                .where(_workable(), due, _lease_free(at), ~blocked)
                .order_by(MessageJob.id)
                .limit(max(4, 2 * limit))
            ).all()
        claimed: list[int] = []
        for job_id in candidates:
            with self.db.session() as s:
                result = s.execute(
                    update(MessageJob)
                    .where(MessageJob.id == job_id, _workable(), _lease_free(at))
                    .values(lease_owner=owner, lease_until=at + timedelta(seconds=self.lease_s))
                    .execution_options(synchronize_session=False)
                )
            if result.rowcount == 1:
                claimed.append(job_id)
                if len(claimed) >= limit:
                    break
        return claimed

    def renew(self, owners: list[str]) -> int:
        """Extend every lease these owners hold (the heartbeat); how many rows were renewed."""
        if not owners:
            return 0
        with self.db.session() as s:
            result = s.execute(
                update(MessageJob)
                .where(MessageJob.lease_owner.in_(owners))
                .values(lease_until=now() + timedelta(seconds=self.lease_s))
                .execution_options(synchronize_session=False)
            )
        return result.rowcount

    def release(self, job_id: int, owner: str) -> None:
        with self.db.session() as s:
            s.execute(
                update(MessageJob)
                .where(MessageJob.id == job_id, MessageJob.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
                .execution_options(synchronize_session=False)
            )

    # -- reading and writing a leased job ---------------------------------------------------------
    def get(self, job_id: int) -> MessageJob:
        with self.db.session() as s:
            job = s.get(MessageJob, job_id)
            if job is None:
                raise LookupError(f"job {job_id} does not exist")
            s.expunge(job)
            return job

    def update(self, session, job_id: int, owner: str, **values) -> None:
        """Compare-and-set inside `session`: write only while `owner` holds the lease (else LeaseLost)."""
        values.setdefault("lease_until", now() + timedelta(seconds=self.lease_s))
        values["updated_at"] = now()
        result = session.execute(
            update(MessageJob)
            .where(MessageJob.id == job_id, MessageJob.lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise LeaseLost(f"job {job_id}: lease lost")

    def set(self, job_id: int, owner: str, **values) -> None:
        with self.db.session() as s:
            self.update(s, job_id, owner, **values)

    def retry_later(self, job_id: int, owner: str, attempts: int, base_s: float, max_s: float) -> float:
        """Back off exponentially (with jitter) and give the job up for claiming again; the delay."""
        delay = min(max_s, base_s * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2)
        self.set(
            job_id,
            owner,
            attempts=attempts,
            next_attempt_at=now() + timedelta(seconds=delay),
            lease_owner=None,
            lease_until=None,
        )
        return delay

    # -- media kept between steps -----------------------------------------------------------------
    def delete_expired_media(self, grace_s: float = 60.0) -> int:
        cutoff = now() - timedelta(seconds=grace_s)
        with self.db.session() as s:
            rows = s.scalars(select(MediaBlob).where(MediaBlob.expires_at < cutoff).limit(500)).all()
            for row in rows:
                s.delete(row)
            return len(rows)
