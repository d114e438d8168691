"""Load and save an agent session for a (channel, sender) thread: WhatsApp, the /v1/chat API."""

from __future__ import annotations

from sqlalchemy import select

from voice.agent.session import Session
from voice.store.db import Database
from voice.store.models import Conversation


def _row(s, channel: str, sender: str) -> Conversation | None:
    return s.scalar(
        select(Conversation).where(Conversation.channel == channel, Conversation.sender == sender)
    )


def load_session(db: Database, channel: str, sender: str, caller: str) -> Session | None:
    """The thread's stored session (its language is the sender's last language), or None."""
    with db.session() as s:
        row = _row(s, channel, sender)
        if row is None or not row.state:
            return None
        return Session.from_json({**row.state, "caller": caller})


def save_session(db: Database, channel: str, sender: str, session: Session) -> None:
    with db.session() as s:
        row = _row(s, channel, sender)
        if row is None:
            row = Conversation(channel=channel, sender=sender)
            s.add(row)
        row.language = session.language
        row.state = session.to_json()
