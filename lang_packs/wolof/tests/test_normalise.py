"""Normaliser: Kallaama STM mark-up, French-style spellings -> CLAD, case, punctuation, NFC."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import voice_pack_wol
from voice_pack_wol.orthography import stm_text, to_clad
from voice_pack_wol.text import normalise

FIXTURE = Path(__file__).parent / "fixtures" / "kallaama_wol_lines.stm"
PACK = voice_pack_wol.load()


def fixture_lines() -> dict[str, str]:
    """Transcript text by '<file> <start>' for the real Kallaama lines copied into the fixture."""
    out = {}
    for line in FIXTURE.read_text(encoding="utf-8").splitlines():
        text = stm_text(line)
        if text is not None:
            parts = line.split()
            out[f"{parts[0]} {parts[3]}"] = text
    return out


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (
            "wol_11410 0.000",
            "damaa am sama tool bu nekkee toolu mboq ay ay kaq ay gunóor ñoo koy lekk dañuy attaqué tool bi "
            "carrément ñaari hectares dañu ko attaqué complètement te fu mu nekk nii amatuma yaakaar si "
            "ñaari hectare yooyu",
        ),
        ("wol_43952 732.429", "ki ñu ne xar bi téeméeri dërëm"),
        ("wol_44914 403.974", "énu wax leen kan"),
        ("wol_44411 823.932", "ba mois d octobre juróom benni weer"),
        (
            "wol_4811 189.220",
            "fas yéene dugg incha allah ci ligéey bi te fokk ñu waxtaanee ci ponk yi",
        ),
        ("wol_35311 480.373", "parce que buñu la nee bi ay plus de 6000 membres ñoo ngi ci"),
    ],
)
def test_real_kallaama_lines(key: str, expected: str) -> None:
    assert PACK.normalise(fixture_lines()[key]) == expected


def test_markup_never_survives() -> None:
    for text in fixture_lines().values():
        out = PACK.normalise(text)
        for mark in ("[", "]", "%", ":fra", ":ar", ":en", "*", "(", ")", "_"):
            assert mark not in out, (mark, out)
        assert out == out.casefold()
        assert PACK.normalise(out) == out  # idempotent


def test_french_style_spelling_in_a_real_line() -> None:
    # Kallaama wol_43920 writes "deugg"; CLAD is "dëgg".
    out = PACK.normalise(fixture_lines()["wol_43920 1239.439"])
    assert "ne dëgg na ci yoon woowu" in out
    assert "deugg" not in out


@pytest.mark.parametrize(
    ("french_style", "clad"),
    [
        ("wakh", "wax"),
        ("kham", "xam"),
        ("nagnou", "nañu"),
        ("deugg", "dëgg"),
        ("meunoula", "mënula"),
        ("djibril", "jibril"),
        ("tchiip", "ciip"),
        ("chaabi", "caabi"),
        ("nyaari", "ñaari"),
        ("ouolof", "wolof"),
        ("bou", "bu"),
        ("keur", "kër"),
        ("khaalis", "xaalis"),
    ],
)
def test_french_style_to_clad(french_style: str, clad: str) -> None:
    assert to_clad(french_style) == clad
    assert PACK.normalise(french_style.capitalize() + "!") == clad


@pytest.mark.parametrize(
    "word",
    # CLAD words, including ones whose letters look French-style (dunyaa has n+y inside).
    ["ñaari", "xam", "dunyaa", "jërëjëf", "caabi", "ngoon", "waaw", "yoon", "génnyaa", "ñoogaanyi", "ceeb"],
)
def test_clad_words_unchanged(word: str) -> None:
    assert PACK.normalise(word) == word


@pytest.mark.parametrize(
    "word",
    # French words and proper nouns keep their spelling (Kallaama tags / names / lexicon).
    ["bonjour", "pour", "chose", "journée", "téléphone", "jeunes", "couper", "louga", "cheikh", "diouf"],
)
def test_french_words_and_names_protected(word: str) -> None:
    assert PACK.normalise(word) == word


def test_tag_protects_a_french_word_the_lists_do_not_know() -> None:
    assert PACK.normalise("kouchou :fra bi") == "kouchou bi"
    assert PACK.normalise("kouchou bi") == "kucu bi"


def test_tags_and_noise() -> None:
    assert PACK.normalise("pour:fra affaire:fra kii bi") == "pour affaire kii bi"
    assert PACK.normalise("ok :en [r] waaw %hum %e [rire_en_fond] waaw") == "ok waaw waaw"
    assert PACK.normalise("ci_ tund wii xa() coopera()bi") == "ci tund wii bi"
    assert PACK.normalise("macha :ar allah :ar") == "macha allah"
    assert normalise("en :fra fait :fra jeex", drop_foreign=True) == "jeex"


def test_case_punctuation_nfc_apostrophes() -> None:
    decomposed = unicodedata.normalize("NFD", "Jërëjëf, DÉGG NAA!")
    assert PACK.normalise(decomposed) == "jërëjëf dégg naa"
    assert PACK.normalise("ÑAARI   téeméer… «waaw»") == "ñaari téeméer waaw"
    assert PACK.normalise("d\u2019accord :fra") == PACK.normalise("d'accord :fra") == "d'accord"
    assert PACK.normalise("juróom-benn") == "juróom benn"


def test_stm_fields() -> None:
    assert stm_text(';; CATEGORY "0" "" ""') is None
    assert (
        stm_text("wol_31211 1 excluded_region 15.271 18.185 <o,,unknown> ignore_time_segment_in_scoring")
        is None
    )
    assert stm_text("wol_1 1 locuteur_2 4.451 4.984 <o,f1,male> %hum waaw") == "%hum waaw"
