from __future__ import annotations

from pathlib import Path

import pytest
from voice_pack_fuc.numbers import digits_to_words, number_to_words


def read_tsv(name: str) -> list[list[str]]:
    text = (Path(__file__).parent / "fixtures" / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


EDGE_CASES = {
    0: "ɓolum",
    1: "go'o",
    5: "joy",
    6: "jeegom",
    7: "jeeɗiɗi",
    10: "sappo",
    11: "sappo e go'o",
    19: "sappo e jeenay",
    20: "noogaas",
    21: "noogaas e go'o",
    30: "capanɗe tati",
    99: "capanɗe jeenay e jeenay",
    100: "teemedere",
    101: "teemedere e go'o",
    110: "teemedere e sappo",
    200: "teemedde ɗiɗi",
    999: "teemedde jeenay e capanɗe jeenay e jeenay",
    1000: "ujunere",
    1001: "ujunere e go'o",
    1980: "ujunere e teemedde jeenay e capanɗe jeetati",
    2000: "ujunnaaje ɗiɗi",
    2026: "ujunnaaje ɗiɗi e noogaas e jeegom",
    5000: "ujunnaaje joy",
    9999: "ujunnaaje jeenay e teemedde jeenay e capanɗe jeenay e jeenay",
    10000: "sappo ujunere",
    12500: "sappo e ɗiɗi ujunere e teemedde joy",
    999999: ("teemedde jeenay e capanɗe jeenay e jeenay ujunere e teemedde jeenay e capanɗe jeenay e jeenay"),
    1000000: "miliyoŋ",
    1000001: "miliyoŋ e go'o",
    3000000: "miliyoŋaaji tati",
    25000000: "noogaas e joy miliyoŋ",
    1000000000: "miliyaar",
    2000000000: "miliyaaruuji ɗiɗi",
}


@pytest.mark.parametrize(("value", "words"), sorted(EDGE_CASES.items()))
def test_edge_cases(value: int, words: str) -> None:
    assert number_to_words(value) == words


def test_largest_required_value() -> None:
    words = number_to_words(999_999_999)
    assert words.startswith("teemedde jeenay e capanɗe jeenay e jeenay miliyoŋ e ")
    assert words.count("miliyoŋ") == 1 and words.count("ujunere") == 1


@pytest.mark.parametrize(("value", "corpus", "expected"), read_tsv("kallaama_numbers.tsv"))
def test_forms_attested_in_kallaama(value: str, corpus: str, expected: str) -> None:
    assert number_to_words(int(value)) == expected
    # the only allowed differences from the corpus are the agreement endings we simplify
    simplified = corpus.replace("nayi", "nay").replace("joyi", "joy")
    assert simplified == expected


def test_every_number_gets_its_own_words() -> None:
    seen: dict[str, int] = {}
    for n in [*range(0, 21000), *range(99_000, 101_000), *range(999_000, 1_002_000, 7)]:
        words = number_to_words(n)
        assert words not in seen, f"{n} and {seen[words]} both read {words!r}"
        seen[words] = n


def test_words_use_only_pulaar_letters() -> None:
    letters = set("abcdefghijklmnoprstuwyɓɗƴŋñ' ")
    for n in range(0, 3000):
        assert set(number_to_words(n)) <= letters, n


@pytest.mark.parametrize("bad", [-1, 10**12])
def test_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError):
        number_to_words(bad)


def test_digit_groups_keep_leading_zeros() -> None:
    assert digits_to_words("00") == "ɓolum ɓolum"
    assert digits_to_words("05") == "ɓolum joy"
    assert digits_to_words("0000") == "ɓolum ɓolum ɓolum ɓolum"
    assert digits_to_words("45") == "capanɗe nay e joy"
