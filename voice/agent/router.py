"""Energy routing: answer confident intent/FAQ matches without the LLM.

One TF-IDF index per pack over the intents' example utterances and the FAQ questions gives the
best match and a confidence; thresholds in `AgentSettings` decide the route.

A greeting often opens a real question ("Hello, what is my balance?"), and a misheard question
can score closest to the greeting examples. `PackIndex.greeting` tells an utterance that is
essentially a greeting from one that carries more, and strips the greeting off the rest, from
the pack's own greeting examples (no word list in the core).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from voice.agent.retrieval import TfidfIndex
from voice.config import AgentSettings
from voice.packs import LanguagePack, get_pack
from voice.packs.content import FAQEntry

Route = Literal["faq", "llm", "handoff"]
GREETING = "greeting"  # the intent id (voice/packs/content.py INTENTS)


@dataclass(frozen=True)
class Match:
    kind: Literal["intent", "faq"]
    key: str
    confidence: float
    intent: str | None = None  # the intent itself, or the intent a matched FAQ entry serves

    @property
    def label(self) -> str:
        return self.intent or f"faq:{self.key}"


@dataclass(frozen=True)
class Greeting:
    """What a greeting-shaped utterance holds besides the greeting."""

    only: bool  # essentially just a greeting: (almost) every word is one the greeting examples use
    rest: str  # the utterance, normalised, without the greeting words it opens with


@dataclass(frozen=True)
class RouteDecision:
    route: Route
    match: Match | None
    understood: bool  # False: nothing matched well enough and no LLM could try


class PackIndex:
    def __init__(self, pack: LanguagePack):
        c = pack.content
        self.pack = pack
        self.labels: list[tuple[str, str]] = []
        docs: list[str] = []
        for intent, spec in c.intents.items():
            for example in spec.examples:
                self.labels.append(("intent", intent))
                docs.append(example)
        for entry in c.faq:
            for q in entry.questions:
                self.labels.append(("faq", entry.id))
                docs.append(q)
        self.index = TfidfIndex(docs, pack.normalise)
        self.kb = TfidfIndex([" ".join([*e.questions, e.answer]) for e in c.faq], pack.normalise)
        self.faq_by_id = {e.id: e for e in c.faq}
        self.faq_by_intent: dict[str, FAQEntry] = {}
        for e in c.faq:
            if e.intent:
                self.faq_by_intent.setdefault(e.intent, e)
        # Words of the greeting examples, and those of them nothing else uses (the greeting proper:
        # "hello", "bonjour", not "is" or "please" that questions share).
        greeting = c.intents[GREETING].examples if GREETING in c.intents else []
        other = [e for intent, spec in c.intents.items() if intent != GREETING for e in spec.examples]
        other += [q for e in c.faq if e.intent != GREETING for q in e.questions]
        self.greeting_words = frozenset(w for d in greeting for w in pack.normalise(d).split())
        self.greeting_markers = self.greeting_words - {w for d in other for w in pack.normalise(d).split()}

    def classify(
        self, text: str, only: set[str] | None = None, exclude: Collection[str] = ()
    ) -> Match | None:
        """Best label for `text` (restricted to intents in `only` when given; never an intent in
        `exclude`, nor a FAQ entry serving one)."""
        narrowed = only is not None or bool(exclude)
        for hit in self.index.search(text, k=50 if narrowed else 1):
            kind, key = self.labels[hit.index]
            intent = key if kind == "intent" else self.faq_by_id[key].intent
            if only is not None and not (kind == "intent" and key in only):
                continue
            if intent in exclude:
                continue
            return Match(kind, key, hit.score, intent)  # type: ignore[arg-type]
        return None

    def greeting(self, text: str) -> Greeting:
        """Split a greeting-shaped utterance: is it just a greeting, and what follows the greeting?

        Just a greeting: at most one word in four (at least one) is not a word of the pack's
        greeting examples. The rest drops the greeting words the utterance opens with.
        """
        words = self.pack.normalise(text).split()
        unexplained = [w for w in words if w not in self.greeting_words]
        lead = 0
        while lead < len(words) and words[lead] in self.greeting_markers:
            lead += 1
        return Greeting(len(unexplained) <= max(1, len(words) // 4), " ".join(words[lead:]))

    def retrieve(self, text: str, k: int) -> list[FAQEntry]:
        return [self.pack.content.faq[h.index] for h in self.kb.search(text, k)]


@lru_cache(maxsize=16)
def pack_index(code: str) -> PackIndex:
    return PackIndex(get_pack(code))


def decide(match: Match | None, settings: AgentSettings, llm_available: bool) -> RouteDecision:
    confidence = match.confidence if match else 0.0
    if match and match.intent == "human_agent" and confidence >= settings.min_confidence:
        return RouteDecision("handoff", match, True)
    if confidence >= settings.faq_threshold:
        return RouteDecision("faq", match, True)
    if llm_available:
        return RouteDecision("llm", match, True)
    return RouteDecision("faq", match, confidence >= settings.min_confidence)
