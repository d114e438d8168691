"""Wolof text hooks: normalise (compare), verbalise (speak), espeak respelling.

verbalise() reads numbers the Wolof way (voice_pack_wol.numbers). Money defaults to francs CFA
("2000 FCFA" -> "ñaari junni francs CFA"); `money_unit="derem"` reads the amount in dërëm, the
5-franc unit Wolof speakers count in ("2000 FCFA" -> "ñeenti téeméeri dërëm"), falling back to
francs CFA when the amount is not a multiple of 5.
"""

from __future__ import annotations

import re
from typing import Literal

from voice.packs import text as textlib
from voice_pack_wol.numbers import MAX, spell, spell_digits, spell_group
from voice_pack_wol.orthography import protected_words, stm_tokens, to_clad

MoneyUnit = Literal["fcfa", "derem"]
DEFAULT_MONEY_UNIT: MoneyUnit = "fcfa"
DEREM_IN_FCFA = 5

# --- normalise ----------------------------------------------------------------------------------


def normalise(text: str, drop_foreign: bool = False) -> str:
    """Comparison form: STM mark-up dropped, CLAD spelling, lower case, no punctuation.

    `:fra`-tagged words keep their French spelling (the tag goes); with `drop_foreign` they are
    removed, which is how language-ID training text is cleaned.
    """
    text = textlib.fold_apostrophes(textlib.nfc(text))
    words = []
    for token in stm_tokens(text):
        if token.foreign and drop_foreign:
            continue
        word = token.text.casefold()
        words.append(word if token.foreign else " ".join(to_clad(w) for w in _split_punct(word)))
    return textlib.basic_normalise(" ".join(words))


def _split_punct(word: str) -> list[str]:
    # Hyphens and punctuation separate words before the spelling rewrite (juróom-benn, "wakh,").
    return [w for w in re.split(r"[^\w']+", word) if w]


# --- verbalise ----------------------------------------------------------------------------------

_SEP = r"[ \u00a0\u202f.]"  # thousands separators: space, no-break spaces, dot
_NUM = rf"\d{{1,3}}(?:{_SEP}\d{{3}})+(?!\d)|\d+"
_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
# Nouns after which a number takes the -i connective; unit abbreviations get their spoken word.
UNIT_WORDS = {
    "GB": "giga",
    "Go": "giga",
    "MB": "méga",
    "Mo": "méga",
    "h": "waxtu",
    "min": "simili",
}
CONNECTIVE_NOUNS = frozenset(
    {"giga", "méga", "waxtu", "simili", "fan", "bés", "ayubés", "weer", "at", "dërëm", "nit", "yoon"}
    | {"pass", "hectare", "hectares"}
)

_TIME_RANGE = re.compile(r"\b(\d{1,2})[:h](\d{2})\s*[-–]\s*(\d{1,2})[:h](\d{2})\b")
_TIME = re.compile(r"\b([01]?\d|2[0-3])[:h]([0-5]\d)\b")
_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")
_PHONE = re.compile(r"(\+\s?221[\s.]?)?(?<!\d)(7[0-8]|3[0-9])[\s.]?(\d{3})[\s.]?(\d{2})[\s.]?(\d{2})(?!\d)")
_USSD = re.compile(r"(?<![\w*#])[*#][\d*#]*")
_MONEY = re.compile(rf"({_NUM})\s?(?:F\s?CFA|FCFA|CFA|XOF|francs?(?:\s?CFA)?|F)(?![\w])")
_PERCENT = re.compile(rf"({_NUM})(?:[,.](\d+))?\s?%")
_DECIMAL = re.compile(r"(?<![\d.,])(\d+)[,.](\d{1,2})(?![\d.,]*\d)")
_NUMBER_UNIT = re.compile(rf"({_NUM})\s?([^\W\d_]+)")
_NUMBER = re.compile(_NUM)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_ALNUM = re.compile(r"\b[A-Za-z][A-Za-z-]*\d[A-Za-z0-9-]*\b")
_UNIT_ALONE = re.compile(r"\b(GB|Go|MB|Mo)\b")


def _int(digits: str) -> int:
    return int(re.sub(r"\D", "", digits))


def _number(digits: str, attributive: bool = False) -> str:
    n = _int(digits)
    if n > MAX or (len(digits) > 1 and digits.startswith("0")):
        return spell_digits(digits)  # codes like 0000, or too long to be an amount
    return spell(n, attributive)


def _time(hour: str, minute: str) -> str:
    words = f"{spell(int(hour), attributive=True)} waxtu"
    return words + (f" ak {spell(int(minute), attributive=True)} simili" if int(minute) else "")


def _date(m: re.Match[str]) -> str:
    day, month, year = int(m[1]), int(m[2]), int(m[3])
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m[0]
    return f"{spell(day)} {_MONTHS[month - 1]} {spell(year)}"


def _phone(m: re.Match[str]) -> str:
    groups = [spell_group(g) for g in m.groups()[1:]]
    prefix = "plus ñaari téeméer ak ñaar fukk ak benn, " if m[1] else ""
    return prefix + ", ".join(groups)


def _ussd(m: re.Match[str]) -> str:
    names = {"*": "étoile", "#": "dièse"}
    return " ".join(names.get(c) or spell(int(c)) for c in m[0])


def _money(m: re.Match[str], unit: MoneyUnit) -> str:
    amount = _int(m[1])
    if unit == "derem" and amount % DEREM_IN_FCFA == 0 and amount > 0:
        return f"{spell(amount // DEREM_IN_FCFA, attributive=True)} dërëm"
    noun = "franc CFA" if amount <= 1 else "francs CFA"
    return f"{spell(amount, attributive=True)} {noun}"


def _percent(m: re.Match[str]) -> str:
    fraction = f" virgule {spell_digits(m[2])}" if m[2] else ""
    return f"{_number(m[1])}{fraction} pour cent"


def _number_unit(m: re.Match[str]) -> str:
    word = UNIT_WORDS.get(m[2], m[2])
    if word not in CONNECTIVE_NOUNS:
        return f"{_number(m[1])} {m[2]}"
    return f"{_number(m[1], attributive=True)} {word}"


def _alnum(m: re.Match[str]) -> str:
    # References and tickets (TK48213): letters kept, digits read one by one.
    return re.sub(r"\d+", lambda d: f" {spell_digits(d[0])} ", m[0].replace("-", " "))


def verbalise(text: str, money_unit: MoneyUnit = DEFAULT_MONEY_UNIT) -> str:
    """Speech form: numbers, money, phones, codes, dates, times, percentages in Wolof words."""
    if money_unit not in ("fcfa", "derem"):
        raise ValueError(f"money_unit must be 'fcfa' or 'derem', not {money_unit!r}")
    text = textlib.nfc(text)
    text = _TIME_RANGE.sub(lambda m: f"{_time(m[1], m[2])} ba {_time(m[3], m[4])}", text)
    text = _TIME.sub(lambda m: _time(m[1], m[2]), text)
    text = _DATE.sub(_date, text)
    text = _PHONE.sub(_phone, text)
    text = _USSD.sub(_ussd, text)
    text = _MONEY.sub(lambda m: _money(m, money_unit), text)
    text = _PERCENT.sub(_percent, text)
    text = _ALNUM.sub(_alnum, text)
    text = _DECIMAL.sub(lambda m: f"{spell(int(m[1]))} virgule {spell_digits(m[2])}", text)
    text = _NUMBER_UNIT.sub(_number_unit, text)
    text = _NUMBER.sub(lambda m: _number(m[0]), text)
    text = _UNIT_ALONE.sub(lambda m: UNIT_WORDS[m[1]], text)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", textlib.collapse_spaces(text))


# --- espeak-ng -------------------------------------------------------------------------------------

# The Swahili voice reads Wolof j, g, u, w, y, prenasals and geminates right; these respellings
# give it the Wolof sounds its own orthography spells differently. French words stay as they are.
_ESPEAK_SW = str.maketrans(
    {"ñ": "ny", "Ñ": "Ny", "c": "ch", "C": "Ch", "x": "kh", "X": "Kh", "ŋ": "ng", "q": "k"}
)
_ESPEAK_VOWELS = str.maketrans("ëàéóËÀÉÓ", "eaeoEAEO")
# French words verbalise() itself writes (units, symbols, months).
SPOKEN_FRENCH = frozenset(
    {"franc", "francs", "cfa", "étoile", "dièse", "virgule", "pour", "cent", "plus", "million", "milliard"}
    | {"giga", "méga", *_MONTHS}
)


def espeak_respell(text: str) -> str:
    """Verbalised Wolof respelled for espeak-ng's `sw` voice (not for VITS, not for display)."""
    keep = SPOKEN_FRENCH | protected_words()

    def respell(m: re.Match[str]) -> str:
        word = m[0]
        if word.casefold() in keep:
            return word
        return word.translate(_ESPEAK_SW).translate(_ESPEAK_VOWELS)

    return re.sub(r"[^\W\d_]+", respell, textlib.nfc(text))
