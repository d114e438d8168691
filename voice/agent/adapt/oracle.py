"""Gold turns: what the agent should say and do, produced by the agent's own parts.

The FAQ route (voice.agent.faq.FaqResponder) answers with the pack's templates, and every tool
result comes from the real executor over the demo backend in a temporary database. Given the
intent or FAQ entry a pack utterance belongs to, the oracle runs that behaviour directly (no
classifier in between, so the label is the pack's); stored calls are replayed through the full
agent (`Agent` with no LLM), whose router decides.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete

from voice.agent.adapt.analysis import Analysis
from voice.agent.demo_backend import (
    CUSTOMERS,
    Customer,
    DemoBackend,
    PurchaseRow,
    TicketRow,
)
from voice.agent.executor import ToolExecutor
from voice.agent.faq import FaqResponder, Reply
from voice.agent.loop import TurnResult, grounding
from voice.agent.router import Match, PackIndex
from voice.agent.session import Session
from voice.agent.types import Message, ToolCall
from voice.packs import LanguagePack
from voice.packs.phrases import phrase
from voice.store.db import Database


class SeededDemoBackend(DemoBackend):
    """The demo backend, reset between dialogues, with ticket numbers drawn from a seeded RNG so a
    dialogue's tool results are the same at data-building time and at evaluation time."""

    def __init__(self, db: Database, seed: int = 0):
        super().__init__(db)
        self.rng = random.Random(seed)

    def reset(self, seed: int) -> None:
        self.rng.seed(seed)
        with self.db.session() as s:
            s.execute(delete(TicketRow))
            s.execute(delete(PurchaseRow))
            for phone, _name, airtime, data in CUSTOMERS:
                c = s.get(Customer, phone)
                c.airtime_fcfa, c.data_mb, c.sim_blocked = airtime, data, False

    def create_ticket(self, phone: str, category: str, description: str) -> str:
        with self.db.session() as s:
            while True:
                ticket = f"T{self.rng.randrange(10**6):06d}"
                if s.get(TicketRow, ticket) is None:
                    break
            s.add(TicketRow(id=ticket, phone=phone, category=category, description=description[:500]))
        return ticket


@contextlib.contextmanager
def demo_business(seed: int = 0) -> Iterator[SeededDemoBackend]:
    """A demo backend in a fresh SQLite file, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="voice-adapt-") as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        try:
            yield SeededDemoBackend(db, seed)
        finally:
            db.dispose()


def dialogue_seed(dialogue_id: str) -> int:
    return int(hashlib.sha256(dialogue_id.encode()).hexdigest()[:8], 16)


@dataclass
class GoldTurn:
    user: str
    reply: str
    tool_calls: list[dict] = field(default_factory=list)  # {name, arguments, result}
    handoff: bool = False
    kind: str = "faq"  # faq | tool | phrase | clarify | dont_know | probe | handoff
    intent: str | None = None
    faq_id: str | None = None
    situation: str = "faq"  # the analysis key of the final answer (when there are no tools)

    def to_gold(self) -> dict:
        return {
            "reply": self.reply,
            "tool_calls": self.tool_calls,
            "handoff": self.handoff,
            "intent": self.intent,
            "faq_id": self.faq_id,
        }


PHRASE_INTENTS = {"greeting", "goodbye", "thanks"}


def _kind(reply: Reply, situation: str) -> str:
    names = [c["name"] for c in reply.tool_calls]
    if "transfer_to_human" in names or reply.handoff:
        return "handoff"
    if names:
        return "tool"
    if situation.startswith("phrase:") or situation == "cancel":
        return "phrase"
    if situation == "ask_reference":
        return "clarify"
    return situation if situation in ("dont_know", "probe") else "faq"


class Oracle:
    def __init__(
        self,
        pack: LanguagePack,
        business: SeededDemoBackend,
        analysis: Analysis,
        kb_entries: int = 3,
        effort: str = "low",
        stored_min_confidence: float = 0.5,
    ):
        self.pack = pack
        self.business = business
        self.analysis = analysis
        self.kb_entries = kb_entries
        self.effort = effort
        self.stored_min_confidence = stored_min_confidence
        self.index = PackIndex(pack)
        self.faq = FaqResponder(ToolExecutor(business))

    # -- gold turns ---------------------------------------------------------------------------
    def intent_turn(self, session: Session, text: str, intent: str) -> GoldTurn:
        match = Match("intent", intent, 1.0, intent)
        reply = self.faq.answer(match, text, session, self.index)
        faq_id = None
        if not reply.tool_calls and intent not in PHRASE_INTENTS:
            entry = self.index.faq_by_intent.get(intent)
            faq_id = entry.id if entry else None
        situation = self._situation(reply, intent)
        return GoldTurn(
            text,
            reply.text,
            reply.tool_calls,
            reply.handoff,
            _kind(reply, situation),
            intent,
            faq_id,
            situation,
        )

    def faq_turn(self, session: Session, text: str, faq_id: str) -> GoldTurn:
        entry = self.index.faq_by_id[faq_id]
        match = Match("faq", faq_id, 1.0, entry.intent)
        reply = self.faq.answer(match, text, session, self.index)
        situation = self._situation(reply, entry.intent or "faq")
        kind = _kind(reply, situation)
        return GoldTurn(
            text, reply.text, reply.tool_calls, reply.handoff, kind, entry.intent, faq_id, situation
        )

    def confirm_turn(self, session: Session, text: str, yes: bool) -> GoldTurn:
        reply = self.faq.confirm(session, self.pack, yes=yes)
        situation = "cancel" if not reply.tool_calls else "result"
        intent = "confirm_yes" if yes else "confirm_no"
        return GoldTurn(
            text,
            reply.text,
            reply.tool_calls,
            reply.handoff,
            _kind(reply, situation),
            intent,
            None,
            situation,
        )

    def probe_turn(self, text: str) -> GoldTurn:
        return GoldTurn(text, phrase(self.pack, "dont_know"), kind="probe", situation="dont_know")

    def from_result(self, text: str, result: TurnResult) -> GoldTurn:
        """A turn the full agent (FAQ route) answered, e.g. when replaying a stored call."""
        reply = Reply(result.reply, result.tool_calls, result.handoff, result.end)
        intent = result.intent
        faq_id = intent[4:] if intent and intent.startswith("faq:") else None
        if faq_id:
            intent = self.index.faq_by_id[faq_id].intent
        situation = self._situation(reply, intent or ("faq" if faq_id else None))
        return GoldTurn(
            text,
            reply.text,
            reply.tool_calls,
            reply.handoff,
            _kind(reply, situation),
            intent,
            faq_id,
            situation,
        )

    def _situation(self, reply: Reply, intent: str | None) -> str:
        if intent in PHRASE_INTENTS and not reply.tool_calls:
            return f"phrase:{intent}"
        if intent == "mobile_money_status" and not reply.tool_calls:
            return "ask_reference"
        if intent is None:
            return "dont_know"
        return "faq"

    # -- harmony messages ---------------------------------------------------------------------------
    def messages(self, history: list[Message], turn: GoldTurn, call_prefix: str) -> list[Message]:
        """system (the agent's grounding for this turn) + history + the turn, analysis included."""
        system = grounding(self.pack, self.index, turn.user, self.kb_entries)
        out = [Message("system", system), *history, Message("user", turn.user)]
        values = {"question": turn.user, "language": self.pack.manifest.names.native}
        for n, call in enumerate(turn.tool_calls):
            args = call["arguments"]
            offer = self.business.offer(str(args.get("offer_id", ""))) if "offer_id" in args else None
            values.update(
                offer=offer.name if offer else "", reference=args.get("reference", ""), tool=call["name"]
            )
            key = f"call:{call['name']}" + (":confirmed" if args.get("confirmed") else "")
            tc = ToolCall(f"call_{call_prefix}_{n}", call["name"], args)  # ids are not rendered in harmony
            out.append(Message("assistant", "", tool_calls=[tc], reasoning=self.analysis.text(key, **values)))
            result = json.dumps(call["result"], ensure_ascii=False)
            out.append(Message("tool", result, tool_call_id=tc.id, name=call["name"]))
        out.append(
            Message("assistant", turn.reply, reasoning=self.analysis.text(self._final_key(turn), **values))
        )
        return out

    def _final_key(self, turn: GoldTurn) -> str:
        if not turn.tool_calls:
            return turn.situation
        last = turn.tool_calls[-1]
        result = last["result"]
        status = result.get("status") or result.get("error") or ""
        if last["name"] == "list_offers" and turn.intent == "buy_offer":
            status = "ask_offer"
        return f"result:{last['name']}" + (f":{status}" if status else "")
