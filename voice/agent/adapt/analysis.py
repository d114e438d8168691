"""The assistant's reasoning (harmony's analysis channel) in the training conversations.

gpt-oss reasons before it acts. Our conversations give it a short, grounded reasoning per
situation: which tool and why, what the tool said, where the answer comes from. Templates come
from the language's config (corpora/configs/agent-<code>.yaml, `data.analysis`, written in the
language and flagged for native-speaker review); missing keys fall back to these English ones.

Keys are looked up from the most to the least specific: "result:buy_offer:done" ->
"result:buy_offer" -> "result". Values: {question} (the caller's words), {offer}, {reference},
{language} (the language's own name), {tool}.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

DEFAULT_ANALYSIS: dict[str, str] = {
    "phrase:greeting": "The caller greets me. Greet back in {language} and offer help.",
    "phrase:goodbye": "The caller is ending the call. Say goodbye.",
    "phrase:thanks": "The caller thanks me. Answer politely and offer more help.",
    "faq": "The caller asks: {question}. The knowledge base answers this; say it briefly.",
    "dont_know": "Neither the knowledge base nor a tool answers this. Say I do not know, offer a person.",
    "ask_reference": "A mobile-money question without a transfer reference. Ask for the reference.",
    "cancel": "The caller said no. Cancel the purchase; nothing is charged.",
    "call:get_balance": "The caller wants the balance. Account facts come only from tools: get_balance.",
    "call:list_offers": "The caller asks about the bundles. Get them with list_offers.",
    "call:buy_offer": "The caller wants {offer}. Ask for confirmation first: buy_offer, not confirmed.",
    "call:buy_offer:confirmed": "The caller said yes to {offer}. Buy it now.",
    "call:mobile_money_status": "The caller asks about transfer {reference}. Check it: mobile_money_status.",
    "call:report_lost_sim": "The SIM card is lost or stolen. Block it at once with report_lost_sim.",
    "call:create_ticket": "A network problem. Open a ticket so a technician follows up.",
    "call:transfer_to_human": "The caller wants a person. Transfer to a human agent.",
    "result": "The tool answered. Tell the caller briefly in {language}.",
    "result:list_offers": "I have the bundles. Read them with their prices.",
    "result:list_offers:ask_offer": "I have the bundles. Read them and ask which one the caller wants.",
    "result:buy_offer:needs_confirmation": "Say the bundle's name and price and ask for a yes or a no.",
    "result:buy_offer:done": "The purchase went through. Say what was bought and the new balance.",
    "result:buy_offer:insufficient_balance": "Not enough airtime. Say the price and the balance.",
    "result:mobile_money_status:not_found": "No such transfer on this account. Say so and offer help.",
    "result:transfer_to_human": "The transfer is under way. Tell the caller to wait.",
}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


ALLOWED_FIELDS = {"question", "offer", "reference", "language", "tool"}


@dataclass
class Analysis:
    templates: dict[str, str] = field(default_factory=dict)
    language: str = "eng"  # the language the configured templates are in
    used: dict[str, str] = field(default_factory=dict)  # key -> "config" | "default", for the card

    def __post_init__(self) -> None:
        for key, text in self.templates.items():
            extra = _fields(text) - ALLOWED_FIELDS
            if extra:
                raise ValueError(f"analysis template {key!r} uses unknown fields {sorted(extra)}")

    def key_chain(self, key: str) -> list[str]:
        parts = key.split(":")
        return [":".join(parts[:n]) for n in range(len(parts), 0, -1)]

    def text(self, key: str, **values: object) -> str:
        for k in self.key_chain(key):
            for source, table in (("config", self.templates), ("default", DEFAULT_ANALYSIS)):
                if k in table:
                    self.used[k] = source
                    filled = {f: values.get(f, "") for f in _fields(table[k])}
                    return table[k].format(**filled).strip()
        raise KeyError(f"no analysis template for {key!r}")

    def coverage(self) -> dict[str, int]:
        """How many situations used the language's own templates vs the English fallback."""
        out = {"config": 0, "default": 0}
        for source in self.used.values():
            out[source] += 1
        return out
