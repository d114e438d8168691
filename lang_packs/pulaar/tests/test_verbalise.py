from __future__ import annotations

import re

import pytest
from voice_pack_fuc.text import espeak_spelling

PHONE_77 = (
    "capanɗe jeeɗiɗi e jeeɗiɗi, teemedere e noogaas e tati, capanɗe nay e joy, capanɗe jeegom e jeeɗiɗi"
)


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        # money is counted in mbuuɗu (5 FCFA), whatever way the amount is written
        ("2000 FCFA", "teemedde nay mbuuɗu"),
        ("2 000 F CFA", "teemedde nay mbuuɗu"),
        ("2.000 FCFA", "teemedde nay mbuuɗu"),
        ("2\u202f000 francs CFA", "teemedde nay mbuuɗu"),
        ("500 FCFA", "teemedere mbuuɗu"),
        ("10 FCFA", "ɗiɗi mbuuɗu"),
        ("25 F", "joy mbuuɗu"),
        ("5000 FCFA", "ujunere mbuuɗu"),
        ("12 000 fcfa", "ujunnaaje ɗiɗi e teemedde nay mbuuɗu"),
        ("1 000 000 FCFA", "teemedde ɗiɗi ujunere mbuuɗu"),
        # not a multiple of 5: read in FCFA
        ("123 FCFA", "teemedere e noogaas e tati sefaa"),
        ("12,5 FCFA", "sappo e ɗiɗi wirgul joy sefaa"),
    ],
)
def test_money(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        (
            "77 123 45 67",
            PHONE_77,
        ),
        (
            "+221 77 123 45 67",
            "teemedde ɗiɗi e noogaas e go'o, capanɗe jeeɗiɗi e jeeɗiɗi, teemedere e noogaas e tati, "
            "capanɗe nay e joy, capanɗe jeegom e jeeɗiɗi",
        ),
        (
            "771234567",
            PHONE_77,
        ),
        # a real number from the Kallaama transcripts: zero groups are read digit by digit
        (
            "88 628 00 01",
            "capanɗe jeetati e jeetati, teemedde jeegom e noogaas e jeetati, ɓolum ɓolum, ɓolum go'o",
        ),
        ("33-820-05-05", "capanɗe tati e tati, teemedde jeetati e noogaas, ɓolum joy, ɓolum joy"),
        (
            "+33 6 12 34 56 78",
            "capanɗe tati e tati, jeegom, sappo e ɗiɗi, capanɗe tati e nay, "
            "capanɗe joy e jeegom, capanɗe jeeɗiɗi e jeetati",
        ),
    ],
)
def test_phone_numbers(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_phone_number_in_a_sentence(pack) -> None:
    out = pack.verbalise("Noddu 1400 walla 77 123 45 67.")
    assert out.startswith("Noddu ujunere e teemedde nay walla capanɗe jeeɗiɗi e jeeɗiɗi, ")
    assert out.endswith("capanɗe jeegom e jeeɗiɗi.")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("22/11/2026", "noogaas e ɗiɗi Jolal hitaande ujunnaaje ɗiɗi e noogaas e jeegom"),
        ("01/01/2025", "go'o Siilo hitaande ujunnaaje ɗiɗi e noogaas e joy"),
        ("9-6-1980", "jeenay Korse hitaande ujunere e teemedde jeenay e capanɗe jeetati"),
        (
            "31.12.1999",
            "capanɗe tati e go'o Bowte hitaande ujunere e teemedde jeenay e capanɗe jeenay e jeenay",
        ),
    ],
)
def test_dates(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("08:30", "waktu jeetati e feccere"),
        ("14:05", "waktu sappo e nay e hojomaaji joy"),
        ("07:00", "waktu jeeɗiɗi"),
        ("18h52", "waktu sappo e jeetati e hojomaaji capanɗe joy e ɗiɗi"),
        ("waktu 22:01", "waktu noogaas e ɗiɗi e hojom go'o"),
        ("07:00–22:00", "waktu jeeɗiɗi haa waktu noogaas e ɗiɗi"),
        ("08:30 - 19:00", "waktu jeetati e feccere haa waktu sappo e jeenay"),
        ("nder 48h", "nder waktuuji capanɗe nay e jeetati"),
        ("24/7", "ñalawma e jamma"),
    ],
)
def test_times(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1%", "go'o nder teemedere"),
        ("ko 75 % tan", "ko capanɗe jeeɗiɗi e joy nder teemedere tan"),
        ("2,5%", "ɗiɗi wirgul joy nder teemedere"),
        ("1 GB", "go'o giga"),
        ("200 MB", "teemedde ɗiɗi mega"),
        ("15 Go", "sappo e joy giga"),
    ],
)
def test_percent_and_data(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("*123#", "etuwal teemedere e noogaas e tati diyees"),
        ("#144#", "diyees teemedere e capanɗe nay e nay diyees"),
        ("*123*5#", "etuwal teemedere e noogaas e tati etuwal joy diyees"),
        ("*111*nimero*kaalis#", "etuwal teemedere e sappo e go'o etuwal nimero etuwal kaalis diyees"),
        ("*100*12340567#", "etuwal teemedere etuwal go'o ɗiɗi tati nay ɓolum joy jeegom jeeɗiɗi diyees"),
    ],
)
def test_ussd_codes(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Code PIN ko 0000.", "Code PIN ko ɓolum ɓolum ɓolum ɓolum."),
        ("hitaande 1980", "hitaande ujunere e teemedde jeenay e capanɗe jeetati"),
        ("lebbi 3", "lebbi tati"),
        ("10 000", "sappo ujunere"),
        (
            "1 248 574",
            "miliyoŋ e teemedde ɗiɗi e capanɗe nay e jeetati ujunere e teemedde joy e capanɗe jeeɗiɗi e nay",
        ),
        ("0", "ɓolum"),
    ],
)
def test_plain_numbers(pack, text: str, spoken: str) -> None:
    assert pack.verbalise(text) == spoken


def test_words_are_left_alone(pack) -> None:
    text = "Jam waali, ɗoo ko Teranga Telecom. Hol ko mi waawi wallude ma?"
    assert pack.verbalise(text) == text


def test_no_digit_survives(pack) -> None:
    text = (
        "Pass Semaine: 5 GB, 2000 FCFA, balɗe 7. Noddu 1400 walla +221 77 123 45 67, 07:00–22:00, "
        "ñalnde 22/11/2026; njoɓdi ko 1%, ko famɗi fof 25 FCFA; *111*nimero*kaalis#; 123456789012345"
    )
    out = pack.verbalise(text)
    assert not re.search(r"\d", out), out


def test_espeak_spelling_for_the_oromo_voice(pack) -> None:
    assert espeak_spelling("ɓiɓɓe ɗiɗi ƴiiƴam ñalnde ŋaaɓii") == "bibbe didi yiiyam nyalnde ngaabii"
    assert espeak_spelling("capanɗe feccere Ceerno") == "chapande fecchere Cheerno"
    assert pack.engine_text(pack.verbalise("2000 FCFA"), "espeak-ng") == "teemedde nay mbuudu"
    assert pack.engine_text(pack.verbalise("2000 FCFA"), "vits") == pack.verbalise("2000 FCFA")
    # verbalise itself keeps the orthography (a VITS voice gets the real letters)
    assert "ɗ" in pack.verbalise("ɗiɗi")
