"""Nombres en lettres : cas limites du lecteur de cardinaux, féminin, ordinaux, chiffres."""

from __future__ import annotations

import pytest
from voice_pack_fra import numbers as nw

CARDINALS = {
    0: "zéro",
    1: "un",
    10: "dix",
    11: "onze",
    16: "seize",
    17: "dix-sept",
    19: "dix-neuf",
    20: "vingt",
    21: "vingt et un",
    22: "vingt-deux",
    71: "soixante et onze",
    77: "soixante-dix-sept",
    80: "quatre-vingts",
    81: "quatre-vingt-un",
    91: "quatre-vingt-onze",
    99: "quatre-vingt-dix-neuf",
    100: "cent",
    101: "cent un",
    200: "deux cents",
    201: "deux cent un",
    999: "neuf cent quatre-vingt-dix-neuf",
    1000: "mille",
    1001: "mille un",
    2000: "deux mille",
    5000: "cinq mille",
    10000: "dix mille",
    80000: "quatre-vingt mille",
    200000: "deux cent mille",
    1000000: "un million",
    2000000: "deux millions",
    999999999: (
        "neuf cent quatre-vingt-dix-neuf millions neuf cent quatre-vingt-dix-neuf mille "
        "neuf cent quatre-vingt-dix-neuf"
    ),
}


@pytest.mark.parametrize(("n", "words"), CARDINALS.items())
def test_cardinal(n: int, words: str) -> None:
    assert nw.cardinal(n) == words


@pytest.mark.parametrize(("n", "words"), CARDINALS.items())
def test_verbalise_plain_number(pack, n: int, words: str) -> None:
    assert pack.verbalise(f"J'ai {n} moutons.") == f"J'ai {words} moutons."


@pytest.mark.parametrize(
    ("written", "words"),
    [
        ("2 000", "deux mille"),
        ("2.000", "deux mille"),
        ("2000", "deux mille"),
        ("2\u00a0000", "deux mille"),
        ("1 500 000", "un million cinq cent mille"),
        ("1.500.000", "un million cinq cent mille"),
    ],
)
def test_thousands_formats(pack, written: str, words: str) -> None:
    assert pack.verbalise(written) == words


def test_decimals(pack) -> None:
    assert pack.verbalise("1,5") == "un virgule cinq"
    assert pack.verbalise("2,50") == "deux virgule cinquante"
    assert pack.verbalise("0,05") == "zéro virgule zéro cinq"
    assert pack.verbalise("1.5") == "un virgule cinq"  # a dot not followed by three digits is a decimal


def test_feminine(pack) -> None:
    assert nw.cardinal(21, feminine=True) == "vingt et une"
    assert nw.cardinal(1_000_001, feminine=True) == "un million une"
    assert pack.verbalise("1 carte SIM") == "une carte sim"
    assert pack.verbalise("21 heures") == "vingt et une heures"
    assert pack.verbalise("31 minutes") == "trente et une minutes"
    assert pack.verbalise("21 jours") == "vingt et un jours"


@pytest.mark.parametrize(
    ("n", "feminine", "words"),
    [
        (1, False, "premier"),
        (1, True, "première"),
        (2, False, "deuxième"),
        (3, False, "troisième"),
        (21, False, "vingt et unième"),
        (80, False, "quatre-vingtième"),
        (280, False, "deux cent quatre-vingtième"),
        (200, False, "deux centième"),
    ],
)
def test_ordinal(n: int, feminine: bool, words: str) -> None:
    assert nw.ordinal(n, feminine) == words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1er", "premier"),
        ("1re", "première"),
        ("1ère", "première"),
        ("2e", "deuxième"),
        ("3ème", "troisième"),
        ("21e", "vingt et unième"),
    ],
)
def test_verbalise_ordinals(pack, text: str, words: str) -> None:
    assert pack.verbalise(text) == words


def test_digits_and_groups() -> None:
    assert nw.digits("0401") == "zéro quatre zéro un"
    assert nw.group("45") == "quarante-cinq"
    assert nw.group("05") == "zéro cinq"
    assert nw.group("00") == "zéro zéro"
    assert nw.group("012") == "zéro douze"
    assert nw.number("0000") == "zéro zéro zéro zéro"
    assert nw.number("1234567890") == "un deux trois quatre cinq six sept huit neuf zéro"
