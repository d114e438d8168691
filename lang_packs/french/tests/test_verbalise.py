"""verbalise() : argent, téléphones, dates, heures, pourcentages, codes ; le reste inchangé."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("2000 FCFA", "deux mille francs CFA"),
        ("2 000 FCFA", "deux mille francs CFA"),
        ("2.000 FCFA", "deux mille francs CFA"),
        ("2 000 F CFA", "deux mille francs CFA"),
        ("2000F CFA", "deux mille francs CFA"),
        ("500 CFA", "cinq cents francs CFA"),
        ("10000 XOF", "dix mille francs CFA"),
        ("1 FCFA", "un franc CFA"),
        ("2 000 000 FCFA", "deux millions de francs CFA"),
        ("1 000 000 FCFA", "un million de francs CFA"),
        ("2000 francs CFA", "deux mille francs CFA"),  # pas « francs CFA francs CFA »
        ("500 F", "cinq cents francs"),
        ("1000 frs", "mille francs"),
        ("500 GMD", "cinq cents dalasis"),
        ("5 €", "cinq euros"),
    ],
)
def test_money(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_balance_template(pack) -> None:
    line = pack.template("balance", balance=1250, data_mb=350)
    assert pack.verbalise(line) == (
        "Votre solde est de mille deux cent cinquante francs CFA et il vous reste "
        "trois cent cinquante mégaoctets d'internet."
    )


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("77 123 45 67", "soixante-dix-sept, cent vingt-trois, quarante-cinq, soixante-sept"),
        ("771234567", "soixante-dix-sept, cent vingt-trois, quarante-cinq, soixante-sept"),
        ("77.123.45.67", "soixante-dix-sept, cent vingt-trois, quarante-cinq, soixante-sept"),
        (
            "+221 77 123 45 67",
            "plus deux cent vingt et un, soixante-dix-sept, cent vingt-trois, quarante-cinq, soixante-sept",
        ),
        ("33 821 00 05", "trente-trois, huit cent vingt et un, zéro zéro, zéro cinq"),
        ("70 800 12 01", "soixante-dix, huit cents, douze, zéro un"),
        ("+220 712 3456", "plus deux cent vingt, sept cent douze, trente-quatre, cinquante-six"),
        (
            "+33 6 12 34 56 78",
            "plus trente-trois, six, douze, trente-quatre, cinquante-six, soixante-dix-huit",
        ),
    ],
)
def test_phone_numbers(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_grouped_amounts_are_not_phone_numbers(pack) -> None:
    assert (
        pack.verbalise("700 000 000 FCFA") == "sept cents millions de francs CFA"
    )  # cents: million is a noun
    assert pack.verbalise("12 500 000") == "douze millions cinq cent mille"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("22/11/2026", "le vingt-deux novembre deux mille vingt-six"),
        ("le 22/11/2026", "le vingt-deux novembre deux mille vingt-six"),  # pas « le le »
        (
            "Du 01/01/2027 au 15/01/2027",
            "Du premier janvier deux mille vingt-sept au quinze janvier deux mille vingt-sept",
        ),
        ("22.11.2026", "le vingt-deux novembre deux mille vingt-six"),
        ("2026-08-01", "le premier août deux mille vingt-six"),
        ("22/11", "le vingt-deux novembre"),
        ("31/12/26", "le trente et un décembre deux mille vingt-six"),
    ],
)
def test_dates(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_invalid_date_is_not_a_date(pack) -> None:
    assert "novembre" not in pack.verbalise("45/11/2026")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("08:30", "huit heures trente"),
        ("8h30", "huit heures trente"),
        ("8 h 30", "huit heures trente"),
        ("08:00", "huit heures"),
        ("19h", "dix-neuf heures"),
        ("13:05", "treize heures cinq"),
        ("01:00", "une heure"),
        ("21:01", "vingt et une heures une"),
        ("12:00", "midi"),
        ("00:00", "minuit"),
        ("07:00–22:00", "sept heures à vingt-deux heures"),
        ("de 8h30 à 19h", "de huit heures trente à dix-neuf heures"),
        ("48h", "quarante-huit heures"),
        ("24h/24", "vingt-quatre heures sur vingt-quatre"),
        ("7j/7", "sept jours sur sept"),
    ],
)
def test_times(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1 %", "un pour cent"),
        ("1%", "un pour cent"),
        ("0,5 %", "zéro virgule cinq pour cent"),
        ("100 %", "cent pour cent"),
    ],
)
def test_percentages(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("*123#", "étoile un deux trois dièse"),
        ("*123*1#", "étoile un deux trois étoile un dièse"),
        ("#144#", "dièse un quatre quatre dièse"),
        ("*100*code#", "étoile un zéro zéro étoile code dièse"),
        ("*111*numéro*montant#", "étoile un un un étoile numéro étoile montant dièse"),
    ],
)
def test_ussd_codes(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1 Go", "un gigaoctet"),
        ("5 Go", "cinq gigaoctets"),
        ("200 Mo", "deux cents mégaoctets"),
        ("1,5 Go", "un virgule cinq gigaoctet"),
        ("15 GB", "quinze gigaoctets"),
        ("7j", "sept jours"),
        ("4G", "quatre G"),
        ("FCFA", "francs CFA"),
        ("code PIN", "code pine"),
        ("carte SIM", "carte sim"),
        ("APN", "A P N"),
        ("M. Ndiaye et Mme Diop", "monsieur Ndiaye et madame Diop"),
        ("n°5", "numéro cinq"),
    ],
)
def test_units_and_abbreviations(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Appelez le 1400.", "Appelez le mille quatre cents."),
        ("Votre numéro de ticket est 48213.", "Votre numéro de ticket est quatre huit deux un trois."),
        ("référence 123456", "référence un deux trois quatre cinq six"),
        ("code PIN 0000", "code pine zéro zéro zéro zéro"),
        ("Ticket TK-2041 ouvert.", "Ticket T K deux zéro quatre un ouvert."),
        ("de 100 à 10000 FCFA", "de cent à dix mille francs CFA"),
        ("100-200", "cent à deux cents"),
    ],
)
def test_codes_and_ranges(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_other_text_unchanged(pack) -> None:
    text = "Bonjour et bienvenue chez Teranga Telecom ! Comment puis-je vous aider ?"
    assert pack.verbalise(text) == text
    assert pack.verbalise("L’argent  est arrivé.") == "L'argent est arrivé."


def test_symbols_read_out(pack) -> None:
    assert pack.verbalise("carte d'identité/passeport") == "carte d'identité ou passeport"
    assert pack.verbalise("appels & internet") == "appels et internet"


def test_content_verbalises_to_words_only(pack) -> None:
    values = dict(
        balance=1250,
        data_mb=350,
        name="Pass Semaine",
        price=2000,
        volume="5 Go",
        validity="7 jours",
        offer="Pass Jour",
        ticket="48213",
        reference="TM123456",
        status="terminé",
        amount=15000,
        hours=24,
        days=7,
    )
    texts = [e.answer for e in pack.content.faq]
    texts += [t.format(**values) for t in pack.content.templates.values()]
    texts += [p.format(**values) for p in pack.content.phrases.values()]
    for text in texts:
        spoken = pack.verbalise(text)
        assert not re.search(r"[0-9*#%/+&@]", spoken), (text, spoken)
