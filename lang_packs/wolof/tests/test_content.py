"""Content: complete, consistent with docs/demo-operator.md, speakable once verbalised."""

from __future__ import annotations

import re

import pytest
import voice_pack_wol

from voice.packs.content import FAQ_IDS, FIELDS, INTENTS, OPTIONAL_TEMPLATES, PHRASES, TEMPLATES, fields

PACK = voice_pack_wol.load()
CONTENT = PACK.content

SAMPLE = {
    "balance": 1250, "data_mb": 340, "name": "Pass Jour", "price": 500, "volume": "1 GB",
    "validity": "24 waxtu", "offer": "Pass Semaine", "ticket": "TK48213", "reference": "MP240611",
    "status": "jot na", "amount": 15000, "hours": 24, "days": 7,
}  # fmt: skip
# The optional phrases the FAQ agent (voice/agent/faq.py) uses; the WhatsApp notices
# (unsupported_message, media_expired, message_too_long) are not written yet.
AGENT_PHRASES = (
    "you_are_welcome", "ask_reference", "ask_offer", "no_account",
    "status_completed", "status_pending", "status_failed", "status_frozen",
)  # fmt: skip
# Facts from docs/demo-operator.md that each answer must carry (as digits, verbalised for speech).
FACTS = {
    "balance_check": ["*123#"],
    "data_balance": ["*123#"],
    "offers_overview": [
        "1 GB", "500 FCFA", "5 GB", "2000 FCFA", "15 GB", "5000 FCFA", "200 MB", "300 FCFA", "24", "7", "30",
    ],
    "buy_offer_howto": ["*123*1#", "app"],
    "recharge_howto": ["*100*", "#"],
    "credit_transfer": ["*111*", "100", "10000 FCFA", "10 FCFA"],
    "mm_send_fees": ["1%", "25 FCFA", "5000 FCFA"],
    "mm_withdraw_fees": ["1%", "25 FCFA", "5000 FCFA"],
    "mm_deposit": ["#144#"],
    "mm_pin_forgotten": ["carte d'identité"],
    "mm_wrong_transfer": ["1400", "72"],
    "lost_sim": ["1400", "1000 FCFA", "carte d'identité"],
    "sim_replacement": ["1000 FCFA", "carte d'identité"],
    "puk_code": ["10"],
    "pin_code": ["0000", "ñetti yoon"],
    "sim_registration": ["carte d'identité", "passeport"],
    "network_no_signal": ["48"],
    "internet_slow": ["48"],
    "calls_drop": ["48"],
    "internet_settings": ["APN", "internet"],
    "opening_hours": ["08:30–19:00", "07:00–22:00", "1400", "altine ba gaawu"],
    "shop_locations": ["Dakar", "Plateau", "Thiès", "Saint-Louis", "Ziguinchor", "Kaolack"],
    "hotline_number": ["1400", "07:00–22:00"],
    "talk_to_human": ["1400"],
    "roaming": ["*123*5#"],
    "number_portability": ["carte d'identité", "48"],
    "complaint_followup": ["48", "72"],
}  # fmt: skip
FRENCH_MARKERS = {
    "bonjour", "bonsoir", "allô", "salut", "au", "revoir", "bye", "merci", "je", "quels", "oui", "non",
    "d'accord", "mon", "ma", "combien", "on", "pas", "vous", "ok", "okay",
}  # fmt: skip


def test_every_key_is_filled() -> None:
    assert set(CONTENT.intents) == set(INTENTS)
    assert set(PHRASES) <= set(CONTENT.phrases)
    assert set(TEMPLATES) <= set(CONTENT.templates)
    assert set(AGENT_PHRASES) <= set(CONTENT.phrases)
    assert set(OPTIONAL_TEMPLATES) <= set(CONTENT.templates)
    assert all(len(i.examples) >= 8 for i in CONTENT.intents.values())
    assert {e.id for e in CONTENT.faq} >= set(FAQ_IDS)


def test_intent_examples_are_distinct_and_code_switched() -> None:
    for intent, spec in CONTENT.intents.items():
        normalised = [PACK.normalise(x) for x in spec.examples]
        assert len(set(normalised)) == len(normalised), intent
        french = [x for x in normalised if FRENCH_MARKERS.intersection(x.split())]
        assert french, f"{intent}: no French code-switched example"


def test_faq_shape() -> None:
    for entry in CONTENT.faq:
        assert 2 <= len(entry.questions) <= 4, entry.id
        assert entry.intent is None or entry.intent in INTENTS, entry.id
        assert 1 <= len(PACK.split_sentences(entry.answer)) <= 2, entry.id


@pytest.mark.parametrize(("faq_id", "facts"), sorted(FACTS.items()))
def test_faq_states_the_demo_operator_facts(faq_id: str, facts: list[str]) -> None:
    answer = next(e.answer for e in CONTENT.faq if e.id == faq_id)
    for fact in facts:
        assert fact in answer, (faq_id, fact)


def test_template_placeholders() -> None:
    for key, expected in FIELDS.items():
        assert fields({**CONTENT.phrases, **CONTENT.templates}[key]) == expected, key
    assert fields(CONTENT.phrases["confirm_purchase"]) == {"offer", "price"}
    for key in PHRASES + AGENT_PHRASES:
        if key != "confirm_purchase":
            assert fields(CONTENT.phrases[key]) == set(), key


def test_everything_is_speakable_once_verbalised() -> None:
    texts = [e.answer for e in CONTENT.faq]
    texts += [PACK.phrase(k, offer="Pass Jour", price=500) for k in PHRASES]
    texts += [PACK.template(k, **SAMPLE) for k in TEMPLATES + OPTIONAL_TEMPLATES]
    texts += [PACK.phrase(k) for k in AGENT_PHRASES]
    for text in texts:
        spoken = PACK.verbalise(text)
        assert not re.search(r"[\d*#%{}]", spoken), spoken


@pytest.mark.parametrize("status", ["completed", "pending", "failed", "frozen"])
def test_status_clause_fits_the_status_sentence(status: str) -> None:
    word = PACK.phrase(f"status_{status}")
    text = PACK.template("mobile_money_status", reference="MM-2026-0042", amount=15000, status=word)
    assert text.endswith(f": {word}."), text
    assert word == word.strip() and word[0].islower() and not word.endswith("."), word
    assert not re.search(r"\d", PACK.verbalise(text)), text


def test_validity_fits_the_offer_item_as_the_faq_says_it() -> None:
    week = PACK.template("validity_days", days=7)
    item = PACK.template("offer_item", name="Pass Semaine", volume="5 GB", price=2000, validity=week)
    assert item == "Pass Semaine: 5 GB ci 2000 FCFA, mu yàgg 7 fan."
    assert PACK.verbalise(item).endswith("mu yàgg juróom-ñaari fan.")
    overview = next(e.answer for e in CONTENT.faq if e.id == "offers_overview")
    assert PACK.template("validity_hours", hours=24) in overview
    assert week in overview and PACK.template("validity_days", days=30) in overview


def test_language_menu_names_four_languages_with_digits() -> None:
    menu = CONTENT.phrases["language_menu"]
    assert re.findall(r"\d", menu) == ["1", "2", "3", "4"]
    for language in ("wolof", "français", "pulaar", "anglais"):
        assert language in menu


def test_system_prompt_rules() -> None:
    prompt = CONTENT.system_prompt
    for must in ("Teranga Telecom", "outils", "déedéet", "liggéeykat", "siifar", "1400", "*123#"):
        assert must in prompt, must


def test_backchannels_and_glossary() -> None:
    assert {"waaw", "mhm", "dégg naa"} <= set(CONTENT.backchannels)
    terms = [g.term for g in CONTENT.glossary]
    assert len(terms) == len(set(terms)) and len(terms) >= 20
    assert any(g.native == "dërëm" for g in CONTENT.glossary)
