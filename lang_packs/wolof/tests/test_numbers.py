"""Wolof numerals, checked against hand-made values and forms attested in Kallaama transcripts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from voice_pack_wol.numbers import MAX, spell, spell_digits, spell_group
from voice_pack_wol.orthography import stm_text
from voice_pack_wol.text import normalise

FIXTURE = Path(__file__).parent / "fixtures" / "kallaama_wol_lines.stm"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "tus"),
        (1, "benn"),
        (2, "ñaar"),
        (3, "ñett"),
        (4, "ñeent"),
        (5, "juróom"),
        (6, "juróom-benn"),
        (7, "juróom-ñaar"),
        (9, "juróom-ñeent"),
        (10, "fukk"),
        (11, "fukk ak benn"),
        (12, "fukk ak ñaar"),
        (19, "fukk ak juróom-ñeent"),
        (20, "ñaar fukk"),
        (21, "ñaar fukk ak benn"),
        (25, "ñaar fukk ak juróom"),
        (30, "fanweer"),
        (40, "ñeent fukk"),
        (65, "juróom-benn fukk ak juróom"),
        (78, "juróom-ñaar fukk ak juróom-ñett"),
        (99, "juróom-ñeent fukk ak juróom-ñeent"),
        (100, "téeméer"),
        (101, "téeméer ak benn"),
        (102, "téeméer ak ñaar"),
        (200, "ñaari téeméer"),
        (400, "ñeenti téeméer"),
        (500, "juróomi téeméer"),
        (999, "juróom-ñeenti téeméer ak juróom-ñeent fukk ak juróom-ñeent"),
        (1000, "junni"),
        (1001, "junni ak benn"),
        (1050, "junni ak juróom fukk"),
        (1100, "junni ak téeméer"),
        (1400, "junni ak ñeenti téeméer"),
        (1600, "junni ak juróom-benni téeméer"),
        (2000, "ñaari junni"),
        (3000, "ñetti junni"),
        (5000, "juróomi junni"),
        (10000, "fukki junni"),
        (20000, "ñaar fukki junni"),
        (21000, "ñaar fukk ak benni junni"),
        (30000, "fanweeri junni"),
        (40000, "ñeent fukki junni"),
        (60000, "juróom-benn fukki junni"),
        (100000, "téeméeri junni"),
        (200000, "ñaari téeméeri junni"),
        (1000000, "benn million"),
        (2000000, "ñaari million"),
        (2026, "ñaari junni ak ñaar fukk ak juróom-benn"),
        (
            999_999_999,
            "juróom-ñeenti téeméer ak juróom-ñeent fukk ak juróom-ñeenti million ak "
            "juróom-ñeenti téeméer ak juróom-ñeent fukk ak juróom-ñeenti junni ak "
            "juróom-ñeenti téeméer ak juróom-ñeent fukk ak juróom-ñeent",
        ),
        (1_000_000_000, "benn milliard"),
    ],
)
def test_cardinals(n: int, words: str) -> None:
    assert spell(n) == words


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (1, "benn"),  # benn tool: no connective on a bare 1
        (2, "ñaari"),  # ñaari hectares
        (5, "juróomi"),
        (6, "juróom-benni"),  # juróom-benni weer
        (10, "fukki"),  # fukki at
        (11, "fukk ak benni"),
        (20, "ñaar fukki"),
        (30, "fanweeri"),
        (52, "juróom fukk ak ñaari"),  # juróom fukk ak ñaari tool
        (100, "téeméeri"),  # téeméeri dërëm
        (150, "téeméer ak juróom fukki"),  # téeméer ak juróom fukki ndaw
        (1000, "junni"),
        (0, "tus"),
    ],
)
def test_attributive_connective(n: int, words: str) -> None:
    assert spell(n, attributive=True) == words


def _fixture_text() -> str:
    lines = (stm_text(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines())
    return " | ".join(normalise(t) for t in lines if t)


@pytest.mark.parametrize(
    ("phrase", "expected_in_kallaama"),
    [
        (lambda: spell(78), "juróom ñaar fukk ak juróom ñett"),
        (lambda: spell(52, attributive=True) + " tool", "juróom fukk ak ñaari tool"),
        (lambda: spell(2, attributive=True) + " hectares", "ñaari hectares"),
        (lambda: spell(400), "ñeenti téeméer"),
        (lambda: spell(30000), "fanweeri junni"),
        (lambda: spell(100, attributive=True) + " dërëm", "téeméeri dërëm"),
        (lambda: spell(6, attributive=True) + " weer", "juróom benni weer"),
        (lambda: spell(7, attributive=True) + " waxtu", "juróom ñaari waxtu"),
        (lambda: spell(30, attributive=True) + " simili", "fanweeri simili"),
    ],
)
def test_forms_attested_in_kallaama(phrase, expected_in_kallaama: str) -> None:
    spoken = normalise(phrase())
    assert spoken == expected_in_kallaama
    assert spoken in _fixture_text()


def test_every_numeral_word_is_in_the_kallaama_lexicon() -> None:
    lexicon = set(
        (resources.files("voice_pack_wol") / "data" / "lexicon.txt").read_text(encoding="utf-8").split()
    )
    known = lexicon | {"million", "milliard"}  # French loans the speller uses; Kallaama tags them
    values = list(range(0, 2100)) + [n * 7919 for n in range(1, 1300)] + [10**6 + 1, 3 * 10**8 + 45]
    unknown = {w for n in values for w in spell(n, n % 2 == 0).split() if w not in known}
    assert unknown == set()


def test_limits() -> None:
    assert spell(MAX).startswith("juróom-ñeenti téeméer")
    with pytest.raises(ValueError):
        spell(-1)
    with pytest.raises(ValueError):
        spell(MAX + 1)


def test_digits_and_groups() -> None:
    assert spell_digits("1400") == "benn ñeent tus tus"
    assert spell_digits("0789") == "tus juróom-ñaar juróom-ñett juróom-ñeent"
    assert spell_group("77") == "juróom-ñaar fukk ak juróom-ñaar"
    assert spell_group("05") == "tus juróom"
    assert spell_group("00") == "tus tus"
    assert spell_group("123") == "téeméer ak ñaar fukk ak ñett"
