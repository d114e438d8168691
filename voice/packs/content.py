"""Customer-service content a pack carries, in its language, validated on load.

Intent ids, phrase keys and template keys are language-neutral: the agent routes on them, each
pack fills them in its own words. Templates keep numbers as digits ({balance}); the pack's
verbaliser writes them out for speech.
"""

from __future__ import annotations

import string
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

# What the agent understands; every pack gives >= 8 example utterances for each.
INTENTS: dict[str, str] = {
    "greeting": "the caller says hello",
    "goodbye": "the caller ends the conversation",
    "thanks": "the caller says thank you",
    "check_balance": "airtime/credit or data balance (tool get_balance)",
    "list_offers": "which bundles/forfaits exist and their prices (tool list_offers)",
    "buy_offer": "buy a bundle or forfait (tool buy_offer, after explicit confirmation)",
    "confirm_yes": "yes / I confirm",
    "confirm_no": "no / cancel",
    "mobile_money_status": "status of a mobile-money transfer (tool mobile_money_status)",
    "mobile_money_fees": "what sending or withdrawing mobile money costs",
    "lost_sim": "SIM card lost or stolen: block it (tool report_lost_sim)",
    "puk_code": "SIM locked, PUK code",
    "network_problem": "no network, bad coverage, calls drop, internet slow (tool create_ticket)",
    "opening_hours": "when and where the shops/agencies are open",
    "human_agent": "wants to talk to a person (tool transfer_to_human)",
}
PHRASES = (
    "greeting",  # the first thing a caller hears
    "please_wait",
    "didnt_hear",
    "idle_prompt",
    "transferring",
    "goodbye",
    "apology",  # something failed on our side
    "dont_know",  # nothing supports an answer: say so and offer a human
    "confirm_purchase",  # {offer} {price}
    "purchase_cancelled",
    "language_menu",  # read on the phone: which digit selects which language
)
# Recommended: the agent falls back to a generic phrase (or an untranslated value) without them.
OPTIONAL_PHRASES = (
    "you_are_welcome",  # answer to thanks
    "clarify",  # a hello mid-call, or a question after a greeting nothing matched: what do you need?
    "ask_reference",  # which mobile-money transfer? (its reference, e.g. MM-2026-0042)
    "ask_offer",  # after reading the offers: which one do you want?
    "no_account",  # no account for the calling number
    "status_completed",  # mobile-money transfer statuses, as words in the language
    "status_pending",
    "status_failed",
    "status_frozen",
    "unsupported_message",  # WhatsApp: a message type we cannot handle (image, sticker, ...)
    "media_expired",  # WhatsApp: the voice note could no longer be downloaded
    "message_too_long",  # WhatsApp: the voice note is longer than the line accepts
)
OPTIONAL_TEMPLATES = (
    "validity_hours",  # {hours}, e.g. "24 hours"
    "validity_days",  # {days}, e.g. "7 days"
)
TEMPLATES = (
    "balance",  # {balance} {data_mb}
    "offers_intro",
    "offer_item",  # {name} {price} {volume} {validity}
    "purchase_done",  # {offer} {price} {balance}
    "insufficient_balance",  # {offer} {price} {balance}
    "lost_sim_done",  # {ticket}
    "ticket_created",  # {ticket}
    "mobile_money_status",  # {reference} {status} {amount}
    "mobile_money_not_found",  # {reference}
)


# FAQ entries every pack answers (docs/demo-operator.md gives the facts), so packs stay parallel.
FAQ_IDS = (
    "balance_check", "data_balance", "offers_overview", "buy_offer_howto", "offer_validity", "recharge_howto",
    "credit_transfer", "mm_send_fees", "mm_withdraw_fees", "mm_deposit", "mm_pin_forgotten",
    "mm_wrong_transfer", "lost_sim", "sim_replacement", "puk_code", "pin_code", "sim_registration",
    "network_no_signal", "internet_slow", "internet_settings", "calls_drop", "opening_hours",
    "shop_locations", "hotline_number", "talk_to_human", "roaming", "number_portability",
    "complaint_followup",
)  # fmt: skip
# The placeholders each phrase or template fills; others take none.
FIELDS: dict[str, set[str]] = {
    "confirm_purchase": {"offer", "price"},
    "balance": {"balance", "data_mb"},
    "offer_item": {"name", "price", "volume", "validity"},
    "purchase_done": {"offer", "price", "balance"},
    "insufficient_balance": {"offer", "price", "balance"},
    "lost_sim_done": {"ticket"},
    "ticket_created": {"ticket"},
    "mobile_money_status": {"reference", "status", "amount"},
    "mobile_money_not_found": {"reference"},
    "validity_hours": {"hours"},
    "validity_days": {"days"},
}


def fields(text: str) -> set[str]:
    """The {placeholders} a phrase or template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FAQEntry(_Strict):
    id: str
    intent: str | None = None
    questions: list[str] = Field(min_length=1)
    answer: str
    tags: list[str] = []


class Intent(_Strict):
    examples: list[str] = Field(min_length=8)


class GlossaryEntry(_Strict):
    term: str  # the French/English term callers use
    native: str  # how the pack's language says or writes it
    note: str | None = None


class PackContent(_Strict):
    system_prompt: str
    glossary: list[GlossaryEntry]
    faq: list[FAQEntry] = Field(min_length=25)
    intents: dict[str, Intent]
    phrases: dict[str, str]
    templates: dict[str, str]
    backchannels: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> PackContent:
        missing = [k for k in INTENTS if k not in self.intents]
        missing += [k for k in PHRASES if k not in self.phrases]
        missing += [k for k in TEMPLATES if k not in self.templates]
        if missing:
            raise ValueError(f"content misses: {', '.join(missing)}")
        unknown = [k for k in self.intents if k not in INTENTS]
        unknown += [k for k in self.phrases if k not in PHRASES + OPTIONAL_PHRASES]
        unknown += [k for k in self.templates if k not in TEMPLATES + OPTIONAL_TEMPLATES]
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(unknown)}")
        ids = [e.id for e in self.faq]
        if len(ids) != len(set(ids)):
            raise ValueError("FAQ ids must be unique")
        if missing_faq := [i for i in FAQ_IDS if i not in ids]:
            raise ValueError(f"FAQ entries missing: {', '.join(missing_faq)}")
        for key, text in {**self.phrases, **self.templates}.items():
            if fields(text) != FIELDS.get(key, set()):
                raise ValueError(
                    f"{key!r} uses {sorted(fields(text))}, expected {sorted(FIELDS.get(key, set()))}"
                )
        return self

    @classmethod
    def load(cls, directory: Path) -> PackContent:
        """Read content/*.yaml and system_prompt.md from a pack's content dir."""

        def read(name: str):
            return yaml.safe_load((directory / name).read_text(encoding="utf-8"))

        phrases = read("phrases.yaml")
        return cls(
            system_prompt=(directory / "system_prompt.md").read_text(encoding="utf-8").strip(),
            glossary=read("glossary.yaml"),
            faq=read("faq.yaml"),
            intents=read("intents.yaml"),
            phrases=phrases["phrases"],
            templates=phrases["templates"],
            backchannels=phrases["backchannels"],
        )
