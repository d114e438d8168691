"""Numbers as English words: edge cases of the cardinal reader and digit-by-digit codes."""

from __future__ import annotations

import pytest
from voice_pack_eng import numbers as nw

CARDINALS = {
    0: "zero",
    7: "seven",
    10: "ten",
    11: "eleven",
    19: "nineteen",
    20: "twenty",
    21: "twenty-one",
    99: "ninety-nine",
    100: "one hundred",
    101: "one hundred one",
    110: "one hundred ten",
    999: "nine hundred ninety-nine",
    1000: "one thousand",
    1001: "one thousand one",
    1250: "one thousand two hundred fifty",
    2000: "two thousand",
    5000: "five thousand",
    10000: "ten thousand",
    15000: "fifteen thousand",
    100000: "one hundred thousand",
    1000000: "one million",
    2500000: "two million five hundred thousand",
    999999999: (
        "nine hundred ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine"
    ),
}


@pytest.mark.parametrize(("n", "words"), CARDINALS.items())
def test_cardinal(n: int, words: str) -> None:
    assert nw.cardinal(n) == words


@pytest.mark.parametrize(("n", "words"), CARDINALS.items())
def test_verbalise_plain_number(pack, n: int, words: str) -> None:
    assert pack.verbalise(f"I have {n} apples.") == f"I have {words} apples."


def test_large_numbers_have_no_commas_or_and() -> None:
    # num2words writes "one million, two hundred and ..."; both were misheard after espeak (numbers.py).
    words = nw.cardinal(1_234_567)
    assert "," not in words and " and " not in words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "first"),
        (2, "second"),
        (3, "third"),
        (11, "eleventh"),
        (12, "twelfth"),
        (21, "twenty-first"),
        (22, "twenty-second"),
        (31, "thirty-first"),
        (100, "one hundredth"),
    ],
)
def test_ordinal(n: int, words: str) -> None:
    assert nw.ordinal(n) == words


@pytest.mark.parametrize(
    ("y", "words"),
    [
        (2026, "twenty twenty-six"),
        (2000, "two thousand"),
        (2005, "two thousand five"),
        (1999, "nineteen ninety-nine"),
    ],
)
def test_year(y: int, words: str) -> None:
    assert nw.year(y) == words


def test_digits_and_codes() -> None:
    assert nw.digits("0401") == "zero four zero one"
    assert nw.number("0000") == "zero zero zero zero"  # PIN-like: leading zero
    assert nw.number("1234567890") == "one two three four five six seven eight nine zero"  # > 9 digits


def test_decimals(pack) -> None:
    assert pack.verbalise("1.5") == "one point five"
    assert pack.verbalise("2,000.25") == "two thousand point two five"
    assert pack.verbalise("0.05") == "zero point zero five"


def test_thousands_separators(pack) -> None:
    assert pack.verbalise("2,000 people") == "two thousand people"
    assert pack.verbalise("1,000,000 people") == "one million people"
    # Plain numbers are not grouped by spaces: "99 100" is two numbers.
    assert pack.verbalise("99 100") == "ninety-nine one hundred"


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("1400", "fourteen hundred"),
        ("1413", "fourteen thirteen"),
        ("2000", "two zero zero zero"),
        ("112", "one one two"),
        ("0800", "zero eight zero zero"),
    ],
)
def test_service_numbers(number: str, words: str) -> None:
    assert nw.service_number(number) == words
