"""Where turns are written: a small protocol, and the phone call's implementation.

A WhatsApp job commits its turn with the job's state change (exactly once), so it stores the
turn itself and passes no store to the pipeline.
"""

from __future__ import annotations

from typing import Protocol

from voice.conversation.events import TurnRecord
from voice.store.db import Database
from voice.store.models import Turn


class TurnStore(Protocol):
    def open(self, record: TurnRecord) -> None:
        """Write the turn as soon as the caller's words are known (sets `record.row_id`)."""

    def close(self, record: TurnRecord) -> None:
        """The reply is complete: its text, route and timings."""

    def heard(self, record: TurnRecord, heard: str, interrupted: bool) -> None:
        """What the caller actually heard of it (a barge-in or a hang-up cut it)."""


class CallTurnStore:
    """Turns of one phone call, as rows of `turns` (SQLite or PostgreSQL)."""

    def __init__(self, db: Database, call_id: int):
        self.db, self.call_id = db, call_id

    def open(self, record: TurnRecord) -> None:
        with self.db.session() as s:
            row = Turn(
                call_id=self.call_id,
                index=record.number,
                caller_text=record.caller_text,
                bot_text=record.planned,
                bot_text_planned=record.planned,
                route=record.route,
                timings=dict(record.timings),
            )
            s.add(row)
            s.flush()
            record.row_id = row.id

    def close(self, record: TurnRecord) -> None:
        if record.row_id is None:
            return
        with self.db.session() as s:
            row = s.get(Turn, record.row_id)
            row.bot_text = row.bot_text_planned = record.planned
            row.route, row.timings = record.route, dict(record.timings)

    def heard(self, record: TurnRecord, heard: str, interrupted: bool) -> None:
        if record.row_id is None:
            return
        with self.db.session() as s:
            row = s.get(Turn, record.row_id)
            row.bot_text, row.interrupted = heard, interrupted
            row.bot_text_planned = record.planned or row.bot_text_planned  # as far as it was generated
            row.timings = dict(record.timings)
