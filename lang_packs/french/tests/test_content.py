"""Contenu : complet, conforme à docs/demo-operator.md, assez court pour être dit."""

from __future__ import annotations

import re

import pytest

from voice.packs.content import (
    FAQ_IDS,
    FIELDS,
    INTENTS,
    OPTIONAL_TEMPLATES,
    PHRASES,
    TEMPLATES,
    fields,
)


def test_every_key_present(pack) -> None:
    c = pack.content
    assert set(c.intents) == set(INTENTS)
    assert set(PHRASES) <= set(c.phrases)
    assert set(TEMPLATES) <= set(c.templates)
    assert c.backchannels


def test_faq_ids(pack) -> None:
    ids = [e.id for e in pack.content.faq]
    assert set(FAQ_IDS) <= set(ids)
    assert len(ids) == len(set(ids))


def test_faq_entries_are_speakable(pack) -> None:
    for e in pack.content.faq:
        assert 2 <= len(e.questions) <= 4, e.id
        assert e.intent is None or e.intent in INTENTS, e.id
        assert 1 <= len(pack.split_sentences(e.answer)) <= 2, e.id
        assert len(e.answer) <= 260, e.id


def test_intents_have_enough_distinct_examples(pack) -> None:
    for intent, spec in pack.content.intents.items():
        normed = {pack.normalise(x) for x in spec.examples}
        assert len(normed) >= 8, intent


@pytest.mark.parametrize(("key", "names"), FIELDS.items())
def test_placeholders(pack, key: str, names: set[str]) -> None:
    text = pack.content.templates.get(key) or pack.content.phrases[key]
    assert fields(text) == names


def test_phrases_without_placeholders_format_cleanly(pack) -> None:
    for key, text in pack.content.phrases.items():
        if key not in FIELDS:
            assert fields(text) == set(), key


def test_balance_template(pack) -> None:
    assert pack.content.templates["balance"] == (
        "Votre solde est de {balance} francs CFA et il vous reste {data_mb} mégaoctets d'internet."
    )


def answer(pack, faq_id: str) -> str:
    return next(e.answer for e in pack.content.faq if e.id == faq_id)


@pytest.mark.parametrize(
    ("faq_id", "facts"),
    [
        ("balance_check", ["*123#"]),
        (
            "offers_overview",
            ["1 Go", "500 FCFA", "5 Go", "2000 FCFA", "15 Go", "5000 FCFA", "200 Mo", "300 FCFA"],
        ),
        ("buy_offer_howto", ["*123*1#", "confirmer"]),
        ("recharge_howto", ["*100*code#"]),
        ("credit_transfer", ["*111*numéro*montant#", "100", "10000 FCFA", "10 FCFA"]),
        ("mm_send_fees", ["1 %", "25 FCFA", "5000 FCFA", "#144#"]),
        ("mm_withdraw_fees", ["1 %", "25 FCFA", "5000 FCFA"]),
        ("mm_deposit", ["gratuit"]),
        ("mm_wrong_transfer", ["1400", "72 heures"]),
        ("sim_replacement", ["1000 FCFA", "carte d'identité"]),
        ("puk_code", ["10 essais"]),
        ("pin_code", ["4 chiffres", "0000", "3 essais"]),
        ("internet_settings", ["APN", "internet"]),
        ("network_no_signal", ["48 heures"]),
        ("opening_hours", ["du lundi au samedi", "08:30", "19:00", "07:00", "22:00"]),
        ("shop_locations", ["Dakar", "Plateau", "Thiès", "Saint-Louis", "Ziguinchor", "Kaolack"]),
        ("hotline_number", ["1400", "gratuit", "07:00", "22:00"]),
        ("roaming", ["*123*5#"]),
        ("number_portability", ["gratuit", "48 heures"]),
        ("complaint_followup", ["48 heures", "72 heures"]),
    ],
)
def test_faq_states_operator_facts(pack, faq_id: str, facts: list[str]) -> None:
    text = answer(pack, faq_id)
    for fact in facts:
        assert fact in text, (faq_id, fact)


def test_system_prompt_rules(pack) -> None:
    prompt = pack.content.system_prompt
    for needle in (
        "Teranga Telecom",
        "langue du client",
        "deux phrases",
        "outils",
        "ne savez pas",
        "confirmer",
        "chiffres",
    ):
        assert needle.lower() in prompt.lower(), needle


def test_language_menu_names_every_digit(pack) -> None:
    menu = pack.content.phrases["language_menu"]
    assert re.findall(r"tapez (\d)", menu) == ["1", "2", "3", "4"]


# The optional phrases the FAQ agent (voice/agent/faq.py) uses; the WhatsApp notices
# (unsupported_message, media_expired, message_too_long) are not written yet.
AGENT_PHRASES = (
    "you_are_welcome",
    "ask_reference",
    "ask_offer",
    "no_account",
    "status_completed",
    "status_pending",
    "status_failed",
    "status_frozen",
)


def test_optional_keys_present_and_speakable(pack) -> None:
    c = pack.content
    assert set(AGENT_PHRASES) <= set(c.phrases)
    assert set(OPTIONAL_TEMPLATES) <= set(c.templates)
    texts = [c.phrases[k] for k in AGENT_PHRASES]
    texts += [pack.template("validity_hours", hours=24), pack.template("validity_days", days=7)]
    for text in texts:
        spoken = pack.verbalise(text)
        assert spoken.strip() and not re.search(r"[\d{}*#%]", spoken), spoken
        assert 1 <= len(pack.split_sentences(text)) <= 2, text


@pytest.mark.parametrize(
    ("status", "ending"),
    [
        ("completed", "est effectué."),
        ("pending", "est en attente."),
        ("failed", "est en échec."),
        ("frozen", "est bloqué."),
    ],
)
def test_status_words_fit_the_status_sentence(pack, status: str, ending: str) -> None:
    text = pack.template(
        "mobile_money_status", reference="MM-2026-0042", amount=15000, status=pack.phrase(f"status_{status}")
    )
    assert text.endswith(ending), text
    assert not re.search(r"\d", pack.verbalise(text)), text


def test_validity_fits_the_offer_item_and_the_faq(pack) -> None:
    week = pack.template("validity_days", days=7)
    item = pack.template("offer_item", name="Pass Semaine", volume="5 Go", price=2000, validity=week)
    assert item == "Pass Semaine : 5 Go pour 2000 francs CFA, valable 7 jours."
    overview = answer(pack, "offers_overview")
    assert pack.template("validity_hours", hours=24) in overview
    assert week in overview and pack.template("validity_days", days=30) in overview
