"""Energy routing: answer confident intent/FAQ matches without the LLM.

One TF-IDF index per pack over the intents' example utterances and the FAQ questions gives the
best match and a confidence; thresholds in `AgentSettings` decide the route.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from voice.agent.retrieval import TfidfIndex
from voice.config import AgentSettings
from voice.packs import LanguagePack, get_pack
from voice.packs.content import FAQEntry

Route = Literal["faq", "llm", "handoff"]


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

    def classify(self, text: str, only: set[str] | None = None) -> Match | None:
        """Best label for `text` (restricted to intents in `only` when given)."""
        for hit in self.index.search(text, k=50 if only else 1):
            kind, key = self.labels[hit.index]
            if only is None or (kind == "intent" and key in only):
                intent = key if kind == "intent" else self.faq_by_id[key].intent
                return Match(kind, key, hit.score, intent)  # type: ignore[arg-type]
        return None

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
