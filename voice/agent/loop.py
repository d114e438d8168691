"""The agent turn: route, answer (FAQ route or LLM with tools), stream speakable sentences.

Only final-channel text is ever spoken; reasoning stays inside an unfinished tool loop and is
dropped from the history once the turn ends. The history keeps what the caller heard.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from voice.agent.backends.base import BackendError, GenerationOptions, LLMBackend
from voice.agent.business import BusinessBackend
from voice.agent.executor import ToolExecutor
from voice.agent.faq import FaqResponder, Reply, clarify
from voice.agent.router import GREETING, PackIndex, decide, pack_index
from voice.agent.session import Session
from voice.agent.tools import TOOL_SCHEMAS
from voice.agent.types import Done, Message, ReasoningDelta, TextDelta, ToolCallEvent
from voice.config import AgentSettings
from voice.metrics import TURNS
from voice.packs import LanguagePack
from voice.packs.phrases import phrase

log = logging.getLogger(__name__)
CONFIRM = {"confirm_yes", "confirm_no"}


def _caller_spoke_before(session: Session) -> bool:
    """Whether the caller said anything before this turn (whose text is already in the history)."""
    return sum(m.role == "user" for m in session.history) > 1


@dataclass
class Sentence:
    """A complete sentence, ready to be spoken while the rest of the turn is produced."""

    text: str


@dataclass
class TurnResult:
    reply: str
    route: str  # faq | llm | handoff
    language: str
    tool_calls: list[dict] = field(default_factory=list)
    handoff: bool = False
    end: bool = False
    intent: str | None = None
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "reply": self.reply,
            "language": self.language,
            "route": self.route,
            "tool_calls": self.tool_calls,
            "handoff": self.handoff,
            "intent": self.intent,
            "confidence": round(self.confidence, 3),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


TurnEvent = Sentence | TurnResult


class SentenceStream:
    """Cut streamed text into sentences as soon as each is complete."""

    def __init__(self, pack: LanguagePack):
        self.pack, self.buffer = pack, ""

    def feed(self, text: str) -> list[str]:
        self.buffer += text
        parts = self.pack.split_sentences(self.buffer)
        if len(parts) <= 1:
            return []
        self.buffer = parts[-1]
        return parts[:-1]

    def flush(self) -> list[str]:
        rest, self.buffer = self.buffer, ""
        return self.pack.split_sentences(rest) if rest.strip() else []


def grounding(pack: LanguagePack, index: PackIndex, text: str, k: int) -> str:
    """System prompt + glossary + the KB entries closest to the question."""
    c = pack.content
    glossary = "\n".join(f"- {g.term}: {g.native}" for g in c.glossary)
    kb = "\n".join(f"- Q: {e.questions[0]}\n  A: {e.answer}" for e in index.retrieve(text, k))
    names = pack.manifest.names
    return (
        f"{c.system_prompt}\n\n"
        f"Always reply in {names.en} ({names.native}), in at most two short sentences, as speech: no lists, "
        "no markdown. Write numbers as digits. Account facts come only from tools. If neither the "
        "knowledge below nor a tool answers the question, say you do not know and offer a human agent.\n\n"
        f"Glossary:\n{glossary}\n\nKnowledge base:\n{kb or '- (nothing relevant)'}"
    )


class Agent:
    def __init__(self, business: BusinessBackend, llm: LLMBackend | None, settings: AgentSettings):
        self.settings = settings
        self.llm = llm
        self.executor = ToolExecutor(business)
        self.faq = FaqResponder(self.executor)

    # -- public ---------------------------------------------------------------------------------
    def greeting(self, session: Session) -> str:
        text = phrase(pack_index(session.language).pack, "greeting")
        session.add_assistant(text)
        return text

    def respond(self, session: Session, text: str) -> TurnResult:
        result = None
        for event in self.turn(session, text):
            if isinstance(event, TurnResult):
                result = event
        assert result is not None
        return result

    def turn(self, session: Session, text: str, cancel: threading.Event | None = None) -> Iterator[TurnEvent]:
        start = time.perf_counter()
        index = pack_index(session.language)
        pack = index.pack
        session.add_user(text)
        result = yield from self._route(session, text, index, cancel, start)
        result.timings["total_s"] = time.perf_counter() - start
        session.add_assistant(result.reply)
        if result.handoff:
            session.handed_off = True
        TURNS.labels(result.route).inc()
        log.info(
            "turn route=%s intent=%s lang=%s %.0f ms",
            result.route,
            result.intent,
            pack.code,
            result.timings["total_s"] * 1000,
        )
        yield result

    # -- routing --------------------------------------------------------------------------------
    def _route(self, session, text, index: PackIndex, cancel, start) -> Iterator[TurnEvent]:
        pack = index.pack
        if session.pending_offer:
            answer = index.classify(text, only=CONFIRM)
            best = index.classify(text)
            if (
                answer
                and answer.confidence >= self.settings.min_confidence
                and (best is None or best.key in CONFIRM or answer.confidence >= 0.8 * best.confidence)
            ):
                reply = self.faq.confirm(session, pack, yes=answer.key == "confirm_yes")
                return (yield from self._emit(reply, "faq", pack, answer.key, answer.confidence, start))
            session.pending_offer = None  # the caller moved on: the question lapses
        match = index.classify(text)
        if match is not None and match.intent == GREETING:
            greeting = index.greeting(text)
            if greeting.only and not _caller_spoke_before(session):
                pass  # the opening greeting answers the caller's first hello
            elif greeting.only:  # a hello mid-call: ask what they need, never the welcome again
                reply = Reply(clarify(pack))
                return (yield from self._emit(reply, "faq", pack, match.label, match.confidence, start))
            else:  # a greeting that opens something else: route what follows it
                match = index.classify(greeting.rest, exclude={GREETING}) if greeting.rest else None
                # A second guess is answered only when confident; else the LLM tries, or we ask.
                if self.llm is None and (match is None or match.confidence < self.settings.faq_threshold):
                    return (yield from self._not_understood(session, pack, match, start, clarify(pack)))
        decision = decide(match, self.settings, self.llm is not None)
        if decision.route == "llm":
            return (yield from self._llm_turn(session, text, index, cancel, start, match))
        if decision.route == "handoff":
            reply = self.faq.answer(match, text, session, index)
            return (yield from self._emit(reply, "handoff", pack, match.label, match.confidence, start))
        if not decision.understood:
            return (yield from self._not_understood(session, pack, match, start, phrase(pack, "dont_know")))
        session.failures = 0
        reply = self.faq.answer(match, text, session, index)
        route = "handoff" if reply.handoff else "faq"
        return (yield from self._emit(reply, route, pack, match.label, match.confidence, start))

    def _not_understood(
        self, session: Session, pack: LanguagePack, match, start, answer: str
    ) -> Iterator[TurnEvent]:
        """Nothing supports an answer: say `answer`, or hand off after too many such turns."""
        session.failures += 1
        conf = match.confidence if match else 0.0
        if session.failures >= self.settings.max_failures:
            reply = Reply(phrase(pack, "transferring"), handoff=True)
            self.faq._tool(reply, session, "transfer_to_human", {"reason": "repeated misunderstanding"})
            return (yield from self._emit(reply, "handoff", pack, None, conf, start))
        return (yield from self._emit(Reply(answer), "faq", pack, None, conf, start))

    def _emit(self, reply: Reply, route, pack, intent, confidence, start) -> Iterator[TurnEvent]:
        first = None
        for sentence in pack.split_sentences(reply.text):
            first = first or time.perf_counter() - start
            yield Sentence(sentence)
        return TurnResult(
            reply.text,
            route,
            pack.code,
            reply.tool_calls,
            reply.handoff,
            reply.end,
            intent,
            confidence,
            {"first_sentence_s": first or 0.0},
        )

    # -- the LLM route --------------------------------------------------------------------------
    def _llm_turn(self, session, text, index: PackIndex, cancel, start, match) -> Iterator[TurnEvent]:
        pack = index.pack
        s = self.settings
        messages = [Message("system", grounding(pack, index, text, s.kb_entries)), *session.history]
        options = GenerationOptions(
            max_tokens=s.max_tokens,
            reasoning_effort=s.reasoning_effort,
            timeout_s=s.turn_timeout_s,
            language=pack.code,
        )
        spoken: list[str] = []
        calls_log: list[dict] = []
        timings: dict[str, float] = {}
        try:
            for _round in range(s.max_tool_rounds + 1):
                stream = SentenceStream(pack)
                calls, reasoning, text_out = [], "", ""
                for event in self.llm.stream(messages, TOOL_SCHEMAS, options, cancel):
                    if time.perf_counter() - start > s.turn_timeout_s:
                        raise BackendError(f"turn took longer than {s.turn_timeout_s:.0f} s")
                    if isinstance(event, TextDelta):
                        text_out += event.text
                        for sentence in stream.feed(event.text):
                            timings.setdefault("first_sentence_s", time.perf_counter() - start)
                            spoken.append(sentence)
                            yield Sentence(sentence)
                    elif isinstance(event, ReasoningDelta):
                        reasoning += event.text  # never spoken
                    elif isinstance(event, ToolCallEvent):
                        calls.append(event.call)
                    elif isinstance(event, Done) and event.first_text_s is not None:
                        timings.setdefault("llm_first_text_s", event.first_text_s)
                if cancel is not None and cancel.is_set():
                    break
                if not calls:
                    for sentence in stream.flush():
                        timings.setdefault("first_sentence_s", time.perf_counter() - start)
                        spoken.append(sentence)
                        yield Sentence(sentence)
                    break
                # Reasoning is kept only while this tool loop is unfinished (harmony's rule).
                messages.append(Message("assistant", text_out, tool_calls=calls, reasoning=reasoning or None))
                for call in calls:
                    result = self.executor.execute(call.name, call.arguments, session)
                    calls_log.append({"name": call.name, "arguments": call.arguments, "result": result})
                    messages.append(
                        Message(
                            "tool",
                            json.dumps(result, ensure_ascii=False),
                            tool_call_id=call.id,
                            name=call.name,
                        )
                    )
            else:
                raise BackendError(f"more than {s.max_tool_rounds} tool rounds")
        except BackendError as exc:
            log.warning("LLM turn failed: %s", exc)
            session.failures += 1
            if spoken:  # part of the answer was already spoken: end it politely
                reply = " ".join(spoken)
            elif session.failures >= s.max_failures:  # the LLM keeps failing: a human takes over
                reply = Reply(phrase(pack, "transferring"), handoff=True)
                self.faq._tool(reply, session, "transfer_to_human", {"reason": "the assistant kept failing"})
                return (yield from self._emit(reply, "handoff", pack, None, 0.0, start))
            elif match and match.confidence >= s.min_confidence:
                fallback = self.faq.answer(match, text, session, index)
                return (yield from self._emit(fallback, "faq", pack, match.label, match.confidence, start))
            else:
                return (yield from self._emit(Reply(phrase(pack, "apology")), "llm", pack, None, 0.0, start))
            return TurnResult(reply, "llm", pack.code, calls_log, session.handed_off, timings=timings)
        session.failures = 0
        reply = " ".join(spoken).strip() or phrase(pack, "dont_know")
        if not spoken:
            yield Sentence(reply)
        route = "handoff" if session.handed_off else "llm"
        return TurnResult(
            reply,
            route,
            pack.code,
            calls_log,
            session.handed_off,
            intent=match.label if match else None,
            confidence=match.confidence if match else 0.0,
            timings=timings,
        )
