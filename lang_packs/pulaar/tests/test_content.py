from __future__ import annotations

import re

import pytest

from voice.packs.content import FAQ_IDS, FIELDS, INTENTS, OPTIONAL_TEMPLATES, PHRASES, TEMPLATES, fields

SAMPLE = {
    "offer": "Pass Semaine", "price": "2000", "balance": "1500", "data_mb": "350", "name": "Pass Jour",
    "volume": "1 GB", "validity": "waktuuji 24", "ticket": "TK4821", "reference": "TM-0042",
    "status": "yettii", "amount": "5000", "hours": "24", "days": "7",
}  # fmt: skip
# The optional phrases the FAQ agent (voice/agent/faq.py) uses; the WhatsApp notices
# (unsupported_message, media_expired, message_too_long) are not written yet.
AGENT_PHRASES = (
    "you_are_welcome", "ask_reference", "ask_offer", "no_account",
    "status_completed", "status_pending", "status_failed", "status_frozen",
)  # fmt: skip


def test_content_loads_and_is_complete(pack) -> None:
    c = pack.content
    assert set(c.intents) == set(INTENTS)
    assert all(len(i.examples) >= 8 for i in c.intents.values())
    assert set(PHRASES) <= set(c.phrases) and set(TEMPLATES) <= set(c.templates)
    assert c.backchannels and c.glossary
    assert "Teranga Telecom" in c.system_prompt


def test_faq_has_the_shared_ids(pack) -> None:
    ids = [e.id for e in pack.content.faq]
    assert set(FAQ_IDS) <= set(ids)
    for entry in pack.content.faq:
        assert 2 <= len(entry.questions) <= 4, entry.id
        assert entry.intent is None or entry.intent in INTENTS, entry.id


def test_faq_answers_are_short_and_speakable(pack) -> None:
    for entry in pack.content.faq:
        sentences = pack.split_sentences(entry.answer)
        assert 1 <= len(sentences) <= 2, (entry.id, sentences)
        spoken = pack.verbalise(entry.answer)
        assert not re.search(r"\d", spoken), (entry.id, spoken)


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_placeholders(pack, key: str) -> None:
    text = pack.content.phrases.get(key) or pack.content.templates[key]
    assert fields(text) == FIELDS[key]
    filled = text.format(**SAMPLE)
    assert not re.search(r"\d", pack.verbalise(filled)), filled


def test_optional_keys_present_and_speakable(pack) -> None:
    c = pack.content
    assert set(AGENT_PHRASES) <= set(c.phrases) and set(OPTIONAL_TEMPLATES) <= set(c.templates)
    texts = [c.phrases[k] for k in AGENT_PHRASES]
    texts += [pack.template("validity_hours", hours=24), pack.template("validity_days", days=7)]
    for text in texts:
        assert fields(text) <= {"hours", "days"}, text
        spoken = pack.verbalise(text)
        assert spoken.strip() and not re.search(r"[\d{}*#%]", spoken), spoken
        assert 1 <= len(pack.split_sentences(text)) <= 2, text


@pytest.mark.parametrize("status", ["completed", "pending", "failed", "frozen"])
def test_status_clause_fits_the_status_sentence(pack, status: str) -> None:
    word = pack.phrase(f"status_{status}")
    text = pack.template("mobile_money_status", reference="MM-2026-0042", amount=15000, status=word)
    assert text.endswith(f": {word}."), text
    assert word == word.strip() and word[0].islower() and not word.endswith("."), word
    assert not re.search(r"\d", pack.verbalise(text)), text


def test_validity_fits_the_offer_item_as_the_faq_says_it(pack) -> None:
    week = pack.template("validity_days", days=7)
    item = pack.template("offer_item", name="Pass Semaine", volume="5 GB", price=2000, validity=week)
    assert item == "Pass Semaine: 5 GB, 2000 FCFA, ina huutoree balɗe 7."
    assert pack.verbalise(item).endswith("ina huutoree balɗe jeeɗiɗi.")
    overview = next(e.answer for e in pack.content.faq if e.id == "offers_overview")
    assert pack.template("validity_hours", hours=24) in overview
    assert week in overview and pack.template("validity_days", days=30) in overview


def test_templates_say_amounts_in_pulaar(pack) -> None:
    spoken = pack.verbalise(pack.template("purchase_done", offer="Pass Semaine", price=2000, balance=1500))
    assert "teemedde nay mbuuɗu" in spoken and "teemedde tati mbuuɗu" in spoken


def test_demo_operator_facts(pack) -> None:
    faq = {e.id: e.answer for e in pack.content.faq}
    assert "*123#" in faq["balance_check"]
    assert all(
        s in faq["offers_overview"] for s in ("500 FCFA", "2000 FCFA", "5000 FCFA", "300 FCFA", "15 GB")
    )
    assert (
        "1%" in faq["mm_send_fees"]
        and "25 FCFA" in faq["mm_send_fees"]
        and "5000 FCFA" in faq["mm_send_fees"]
    )
    assert "1000 FCFA" in faq["lost_sim"] and "1400" in faq["lost_sim"]
    assert "0000" in faq["pin_code"] and "10" in faq["puk_code"]
    assert "08:30–19:00" in faq["opening_hours"] and "07:00–22:00" in faq["hotline_number"]
    assert "*123*5#" in faq["roaming"] and "48" in faq["number_portability"]
    assert "72" in faq["complaint_followup"] and "48" in faq["complaint_followup"]
    assert "*111*" in faq["credit_transfer"] and "10000" in faq["credit_transfer"]


def test_language_menu_digits(pack) -> None:
    menu = pack.content.phrases["language_menu"]
    # the order shared with the French and English packs: Wolof 1, Pulaar 2, French 3, English 4
    assert re.findall(r"Ngam (\w+), tappu (\d)", menu) == [
        ("Wolof", "1"),
        ("Pulaar", "2"),
        ("Farayse", "3"),
        ("Engeleere", "4"),
    ]


def test_content_is_in_the_pulaar_orthography(pack) -> None:
    texts = [e.answer for e in pack.content.faq] + list(pack.content.phrases.values())
    for text in texts:
        assert "ɲ" not in text and "’" not in text, text
        assert pack.normalise(text) == pack.normalise(pack.normalise(text))
