from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from voice_pack_fuc import adlam
from voice_pack_fuc.normalise import fix_orthography, strip_transcript_markup


def read_tsv(name: str) -> list[list[str]]:
    text = (Path(__file__).parent / "fixtures" / name).read_text(encoding="utf-8")
    rows = [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]
    return [row + [""] * (2 - len(row)) for row in rows]


@pytest.mark.parametrize(("raw", "expected"), read_tsv("kallaama_normalise.tsv"))
def test_real_kallaama_lines(pack, raw: str, expected: str) -> None:
    assert pack.normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # hooked letters and their capitals survive; case is folded
        ("Ɓiɓɓe ƊIƊI Ƴiiƴam ŊAAƁII", "ɓiɓɓe ɗiɗi ƴiiƴam ŋaaɓii"),
        # typewriter substitutes after a letter, before a vowel or consonant
        ("wad'aa mawd'o moy'a", "waɗaa mawɗo moƴa"),
        ("B'aleejo y'eewde", "ɓaleejo ƴeewde"),
        # word-initial d' is the French elision; aujourd'hui and the 's of English stay
        ("d'accord, aujourd'hui, David's", "d'accord aujourd'hui david's"),
        ("il y'a", "il y'a"),
        # Guinea spelling and keyboard variants
        ("ɲaamde Ɲaamde ňaamde nyaamde", "ñaamde ñaamde ñaamde ñaamde"),
        ("ɣiiɣam", "ƴiiƴam"),
        # phone keyboards: 6 for ɓ, but not in numbers or French ordinals
        ("6e ngarii, nju66udi", "ɓe ngarii njuɓɓudi"),
        ("16e hitaande 2016, 6ème", "16e hitaande 2016 6ème"),
        # apostrophes: one form; the glottal stop stays, edge quotes go
        ("go’o go‘o goʼo go`o goꞌo", "go'o go'o go'o go'o go'o"),
        ("‘Jam waali’", "jam waali"),
        # apostrophe between a nasal and b d g j: standard spelling has none
        ("won'de in’de ngon'daaka", "wonde inde ngondaaka"),
        ("mum'en haalpulaar'en", "mum'en haalpulaar'en"),
        # punctuation, hyphens and spaces
        ("Ko honno mbaɗ-ɗaa ?!  Fuuta-Tooro…", "ko honno mbaɗ ɗaa fuuta tooro"),
        # NFC: a decomposed é becomes one code point
        ("re\u0301seau", "réseau"),
    ],
)
def test_rules(pack, raw: str, expected: str) -> None:
    assert pack.normalise(raw) == expected


def test_stm_language_tags_keep_the_word() -> None:
    assert strip_transcript_markup("mi yiɗi solde :fra am") == "mi yiɗi solde am"
    assert strip_transcript_markup("ko daam :wolof meɗen") == "ko daam meɗen"
    assert (
        strip_transcript_markup("mais :fra wona [r] %e yoora ha waɗa keeng")
        == "mais wona yoora ha waɗa keeng"
    )


def test_stm_truncations_are_dropped() -> None:
    assert strip_transcript_markup("o win() o heeɓi pa* ko * ɗum") == "o o heeɓi ko ɗum"


def test_plain_text_is_not_treated_as_markup() -> None:
    # a percent sign after a number and a colon in prose are not transcript tags
    assert strip_transcript_markup("ko 1% tan : ɗum fof") == "ko 1% tan : ɗum fof"


def test_fix_orthography_keeps_case_and_punctuation() -> None:
    assert fix_orthography("Jaɲde, wad’aa!") == "Jañde, waɗaa!"


def adlam_text(*names: str) -> str:
    """Adlam from character names: "pe" -> ADLAM SMALL LETTER PE, "Pe" -> capital, marks by name."""
    out = []
    for name in names:
        if name.upper() in MARKS:
            out.append(unicodedata.lookup(f"ADLAM {name.upper()}"))
        else:
            case = "CAPITAL" if name[0].isupper() else "SMALL"
            out.append(unicodedata.lookup(f"ADLAM {case} LETTER {name.upper()}"))
    return "".join(out)


MARKS = {"ALIF LENGTHENER", "VOWEL LENGTHENER", "GEMINATION MARK", "HAMZA", "NASALIZATION MARK", "NUKTA"}


def test_adlam_transliteration() -> None:
    assert adlam.to_latin(adlam_text("pe", "u", "laam", "alif", "alif lengthener", "ra")) == "pulaar"
    assert adlam.to_latin(adlam_text("Alif", "ra", "o", "vowel lengthener")) == "Aroo"
    assert adlam.to_latin(adlam_text("fa", "i", "ya", "gemination mark", "alif")) == "fiyya"
    assert adlam.to_latin(adlam_text("ga", "o", "hamza", "o")) == "go'o"
    assert adlam.to_latin(adlam_text("bhe", "e", "dha", "i", "yhe", "alif", "nya", "u", "nha")) == "ɓeɗiƴañuŋ"
    # nasalisation mark: a homorganic nasal before the next consonant
    assert adlam.to_latin(adlam_text("nasalization mark", "ba", "alif", "laam", "u")) == "mbalu"
    assert adlam.to_latin(adlam_text("nasalization mark", "daali", "i", "ya", "alif", "miim")) == "ndiyam"
    digits = "".join(unicodedata.lookup(f"ADLAM DIGIT {d}") for d in ("ONE", "FOUR", "ZERO", "ZERO"))
    assert adlam.to_latin(digits) == "1400"
    assert adlam.to_latin("Jam waali") == "Jam waali"


def test_adlam_text_normalises_like_latin(pack) -> None:
    text = (
        adlam_text("Jiim", "alif", "miim") + " " + adlam_text("waw", "alif", "alif lengthener", "laam", "i")
    )
    assert pack.normalise(text) == "jam waali"
