"""verbalise(): money (FCFA and dërëm), phone numbers, codes, dates, times, percentages, units."""

from __future__ import annotations

import re

import pytest
import voice_pack_wol
from voice_pack_wol.text import espeak_respell, verbalise

PACK = voice_pack_wol.load()


@pytest.mark.parametrize(
    "written",
    [
        "2000 FCFA",
        "2 000 F CFA",
        "2.000 FCFA",
        "2\u00a0000 FCFA",
        "2\u202f000 FCFA",
        "2000 F",
        "2000F",
        "2 000 francs",
    ],
)
def test_money_spellings_read_the_same(written: str) -> None:
    assert PACK.verbalise(written) == "ñaari junni francs CFA"


@pytest.mark.parametrize(
    ("written", "fcfa", "derem"),
    [
        ("2000 FCFA", "ñaari junni francs CFA", "ñeenti téeméeri dërëm"),
        ("500 FCFA", "juróomi téeméeri francs CFA", "téeméeri dërëm"),
        ("50 FCFA", "juróom fukki francs CFA", "fukki dërëm"),
        ("5000 FCFA", "juróomi junni francs CFA", "junni dërëm"),
        ("10000 FCFA", "fukki junni francs CFA", "ñaari junni dërëm"),
        ("25 FCFA", "ñaar fukk ak juróomi francs CFA", "juróomi dërëm"),
        ("1 FCFA", "benn franc CFA", "benn franc CFA"),  # not a multiple of 5: stays in francs
        ("27 FCFA", "ñaar fukk ak juróom-ñaari francs CFA", "ñaar fukk ak juróom-ñaari francs CFA"),
    ],
)
def test_money_units(written: str, fcfa: str, derem: str) -> None:
    assert PACK.verbalise(written) == fcfa  # the documented default
    assert PACK.verbalise(written, money_unit="derem") == derem
    assert verbalise(written, "derem") == derem


def test_money_unit_default_is_fcfa_and_can_be_switched_per_pack() -> None:
    pack = voice_pack_wol.load()
    assert pack.money_unit == "fcfa"
    pack.money_unit = "derem"
    assert pack.verbalise("Pass Semaine 2000 FCFA la.") == "Pass Semaine ñeenti téeméeri dërëm la."
    with pytest.raises(ValueError):
        verbalise("2000 FCFA", "euro")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        (
            "77 123 45 67",
            "juróom-ñaar fukk ak juróom-ñaar, téeméer ak ñaar fukk ak ñett, ñeent fukk ak juróom, "
            "juróom-benn fukk ak juróom-ñaar",
        ),
        (
            "+221 77 123 45 67",
            "plus ñaari téeméer ak ñaar fukk ak benn, juróom-ñaar fukk ak juróom-ñaar, "
            "téeméer ak ñaar fukk ak ñett, ñeent fukk ak juróom, juróom-benn fukk ak juróom-ñaar",
        ),
        (
            "771234567",
            "juróom-ñaar fukk ak juróom-ñaar, téeméer ak ñaar fukk ak ñett, ñeent fukk ak juróom, "
            "juróom-benn fukk ak juróom-ñaar",
        ),
        ("33 800 05 00", "fanweer ak ñett, juróom-ñetti téeméer, tus juróom, tus tus"),
    ],
)
def test_phone_numbers_by_groups(written: str, spoken: str) -> None:
    assert PACK.verbalise(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("*123#", "étoile benn ñaar ñett dièse"),
        ("#144#", "dièse benn ñeent ñeent dièse"),
        ("*123*5#", "étoile benn ñaar ñett étoile juróom dièse"),
        (
            "bësal *111*, nimero bi, *, ak #.",
            "bësal étoile benn benn benn étoile, nimero bi, étoile, ak dièse.",
        ),
    ],
)
def test_ussd_codes_digit_by_digit(written: str, spoken: str) -> None:
    assert PACK.verbalise(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("22/11/2026", "ñaar fukk ak ñaar novembre ñaari junni ak ñaar fukk ak juróom-benn"),
        ("1/1/2000", "benn janvier ñaari junni"),
        ("08:30", "juróom-ñetti waxtu ak fanweeri simili"),
        ("22:00", "ñaar fukk ak ñaari waxtu"),
        ("8h05", "juróom-ñetti waxtu ak juróomi simili"),
        (
            "07:00–22:00",
            "juróom-ñaari waxtu ba ñaar fukk ak ñaari waxtu",
        ),
        ("1%", "benn pour cent"),
        ("1,5 %", "benn virgule juróom pour cent"),
        ("100%", "téeméer pour cent"),
    ],
)
def test_dates_times_percentages(written: str, spoken: str) -> None:
    assert PACK.verbalise(written) == spoken


def test_impossible_date_is_not_read_as_a_date() -> None:
    out = PACK.verbalise("45/13/2026")
    assert not any(month in out for month in ("janvier", "décembre", "novembre"))
    assert not re.search(r"\d", out)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        (
            "Pass Jour: 1 GB, 500 FCFA, 24 waxtu.",
            "Pass Jour: benn giga, juróomi téeméeri francs CFA, ñaar fukk ak ñeenti waxtu.",
        ),
        ("15 GB", "fukk ak juróomi giga"),
        ("200 MB", "ñaari téeméeri méga"),
        ("7 fan", "juróom-ñaari fan"),
        ("48h", "ñeent fukk ak juróom-ñetti waxtu"),
        ("1,5 GB", "benn virgule juróom giga"),
        ("ñaari 3 yoon", "ñaari ñetti yoon"),
    ],
)
def test_numbers_before_nouns_take_the_connective(written: str, spoken: str) -> None:
    assert PACK.verbalise(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("0", "tus"),
        ("10", "fukk"),
        ("11", "fukk ak benn"),
        ("1000", "junni"),
        ("1 000 000", "benn million"),
        (
            "999 999 999",
            "juróom-ñeenti téeméer ak juróom-ñeent fukk ak juróom-ñeenti million ak "
            "juróom-ñeenti téeméer ak juróom-ñeent fukk ak juróom-ñeenti junni ak juróom-ñeenti téeméer "
            "ak juróom-ñeent fukk ak juróom-ñeent",
        ),
        ("0000", "tus tus tus tus"),  # a PIN is read digit by digit
        ("TK-48213", "TK ñeent juróom-ñett ñaar benn ñett"),
    ],
)
def test_plain_numbers_and_codes(written: str, spoken: str) -> None:
    assert PACK.verbalise(written) == spoken


def test_text_around_numbers_is_kept_and_no_digit_survives() -> None:
    text = "Woo 1400 ci 07:00–22:00, walla bësal *123#: 2 000 FCFA, 1%, 22/11/2026, +221 77 123 45 67."
    out = PACK.verbalise(text)
    assert out.startswith("Woo junni ak ñeenti téeméer ci juróom-ñaari waxtu ba")
    assert not re.search(r"[\d*#%]", out)
    assert PACK.verbalise("Jërëjëf, ba beneen yoon!") == "Jërëjëf, ba beneen yoon!"


def test_espeak_respelling_for_the_swahili_voice() -> None:
    assert espeak_respell("ñaari") == "nyaari"
    assert espeak_respell("Xaaral tuuti, ci sa kër") == "Khaaral tuuti, chi sa ker"
    assert (
        PACK.engine_text("ñaari junni francs CFA, étoile", "espeak-ng") == "nyaari junni francs CFA, étoile"
    )
    assert PACK.engine_text("ñaari junni", "vits") == "ñaari junni"
