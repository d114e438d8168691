"""Pulaar text hooks: normalise (comparison), verbalise (speech), sentence splitting.

verbalise() writes out, in this order: "24/7", USSD codes (*123#), money, phone numbers,
dates, times and time ranges, durations in hours, percentages, data volumes, then any other
number. Everything else is left as written, so a VITS voice trained on the orthography gets
the orthography; `espeak_spelling()` adapts it for the espeak-ng voice only.

Conventions (from the Kallaama Pulaar text; see the README for what a native speaker must check):
- money is counted in mbuuɗu, the 5 FCFA unit: "ujunnaaje ɗiɗi e teemedde nay mbuuɗu (12 000
  fcfa)" in the corpus; amounts that are not a multiple of 5 are read in "sefaa" (FCFA);
- dates "ñalnde 21 Bowte 2022" style, with the Pulaar month names, "hitaande" before the year;
- clock times "waktu 18 e hojomaaji 52", half past = "e feccere";
- percentages "5 nder teemedere" (5 in a hundred).
"""

from __future__ import annotations

import re

from voice.packs import text as textlib
from voice_pack_fuc.normalise import normalise
from voice_pack_fuc.numbers import MAX, ZERO, digits_to_words, number_to_words

__all__ = ["normalise", "verbalise", "spell_number", "espeak_spelling", "ABBREVIATIONS", "MONTHS"]

MONTHS = (
    "Siilo", "Colte", "Mbooy", "Seeɗto", "Duujal", "Korse",
    "Morso", "Juko", "Siilto", "Yarkomaa", "Jolal", "Bowte",
)  # fmt: skip
MBUUDU = "mbuuɗu"  # 5 FCFA
FCFA = "sefaa"  # an amount that is not a multiple of 5
PERCENT = "nder teemedere"
DECIMAL = "wirgul"  # French "virgule", as speakers say it
HOUR, HOURS, MINUTES, MINUTE, HALF = "waktu", "waktuuji", "hojomaaji", "hojom", "feccere"
UNTIL = "haa"
STAR, HASH = "etuwal", "diyees"  # French "étoile", "dièse" as heard in USSD adverts
ROUND_THE_CLOCK = "ñalawma e jamma"
DATA_UNITS = {"g": "giga", "m": "mega", "k": "kilo"}
ABBREVIATIONS = (
    "ekn.", "etc.", "dr.", "m.", "mme.", "mlle.", "pr.", "prof.", "st.", "no.", "n°.", "tel.", "tél.",
    "km.", "av.", "bp.", "cf.", "art.", "min.", "sec.", "vol.", "p.",
)  # fmt: skip

_SEP = r"[ .\u00a0\u202f-]?"
_GROUPED = r"\d{1,3}(?:[ .\u00a0\u202f]\d{3})+"
_NUMBER = rf"(?:{_GROUPED}|\d+)(?:,\d+)?"

_ROUND_THE_CLOCK = re.compile(r"\b24\s?/\s?7\b")
_PHONE_SN = re.compile(
    rf"(?<![\w+])(?:(\+|00)\s?221{_SEP})?((?:7\d|3[0-9]|8[0-9]){_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}})(?!\d)"
)
_PHONE_INTL = re.compile(r"(?<![\w+])(?:\+|00(?=[1-9]))(\d{1,3})((?:[ .-]?\d{1,4}){2,6})(?!\d)")
_USSD = re.compile(r"(?<![\w*#])[*#](?:[\w]+[*#])+")
_DATE = re.compile(r"\b(0?[1-9]|[12]\d|3[01])[/.-](0?[1-9]|1[0-2])[/.-](\d{4})\b")
_TIME = r"\b([01]?\d|2[0-3])\s?[:hH]\s?([0-5]\d)\b"
_AT = rf"(?:\b{HOUR}\s+)?"  # "waktu 08:30" must not say "waktu waktu"
_TIME_RANGE = re.compile(rf"{_AT}{_TIME}\s*(?:[-–—]|{UNTIL}|à|to)\s*{_AT}{_TIME}")
_TIME_ONE = re.compile(_AT + _TIME)
_DURATION_HOURS = re.compile(r"\b(\d+)\s?h\b")
_MONEY = re.compile(rf"({_NUMBER})\s?(?:F\s?CFA|FCFA|CFA|XOF|francs?\s?CFA|francs?|F)(?![\w])", re.IGNORECASE)
_PERCENT = re.compile(rf"({_NUMBER})\s?%")
_DATA = re.compile(rf"({_NUMBER})\s?([GMK])(?:B|b|o)\b")
_ANY_NUMBER = re.compile(rf"(?<![\w]){_NUMBER}(?![\w])|\d+")


def spell_number(n: int) -> str:
    return number_to_words(n) if n <= MAX else _each_digit(str(n))


def _int_of(digits: str) -> int:
    return int(re.sub(r"\D", "", digits))


def _spell_numeral(numeral: str) -> str:
    """A written number ("2 000", "2.000", "12,5") in words; the comma is the decimal mark."""
    whole, _, frac = numeral.partition(",")
    digits = re.sub(r"\D", "", whole)
    # "0000", "05": codes and numbers with leading zeros are read digit by digit
    words = digits_to_words(digits) if len(digits) > 1 and digits[0] == "0" else spell_number(int(digits))
    if frac:
        words += f" {DECIMAL} {digits_to_words(frac)}"
    return words


def _groups(digits: str, sizes: tuple[int, ...]) -> list[str]:
    out, i = [], 0
    for size in sizes:
        out.append(digits[i : i + size])
        i += size
    return out


def _phone_sn(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group(2))
    words = [digits_to_words(g) for g in _groups(digits, (2, 3, 2, 2))]
    if m.group(1):
        words.insert(0, number_to_words(221))
    return ", ".join(words)


def _phone_intl(m: re.Match[str]) -> str:
    groups = [m.group(1), *re.split(r"[ .-]", m.group(2).strip(" .-"))]
    return ", ".join(digits_to_words(g) for g in groups if g)


def _ussd(m: re.Match[str]) -> str:
    words = []
    for token in re.findall(r"[*#]|[^*#]+", m.group(0)):
        if token == "*":
            words.append(STAR)
        elif token == "#":
            words.append(HASH)
        elif token.isdigit():
            # short codes are said as numbers (*123#), long recharge codes digit by digit
            words.append(number_to_words(int(token)) if len(token) <= 3 else _each_digit(token))
        else:
            words.append(token)
    return " ".join(words)


def _each_digit(digits: str) -> str:
    return " ".join(ZERO if d == "0" else number_to_words(int(d)) for d in digits)


def _date(m: re.Match[str]) -> str:
    day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    return f"{number_to_words(day)} {MONTHS[month - 1]} hitaande {number_to_words(year)}"


def _clock(hours: str, minutes: str) -> str:
    h, mins = int(hours), int(minutes)
    words = f"{HOUR} {number_to_words(h)}"
    if mins == 30:
        return f"{words} e {HALF}"
    if mins == 1:
        return f"{words} e {MINUTE} {number_to_words(1)}"
    return f"{words} e {MINUTES} {number_to_words(mins)}" if mins else words


def _money(m: re.Match[str]) -> str:
    numeral = m.group(1)
    if "," not in numeral and _int_of(numeral) % 5 == 0:
        return f"{spell_number(_int_of(numeral) // 5)} {MBUUDU}"
    return f"{_spell_numeral(numeral)} {FCFA}"


def verbalise(text: str) -> str:
    """Numbers, money, phone numbers, codes, dates, times and percentages in Pulaar words."""
    text = textlib.collapse_spaces(textlib.nfc(text))
    text = _ROUND_THE_CLOCK.sub(ROUND_THE_CLOCK, text)
    text = _USSD.sub(_ussd, text)  # first: a code may contain a phone number
    text = _MONEY.sub(_money, text)  # before phones: "1 000 000 FCFA" is an amount
    text = _PHONE_SN.sub(_phone_sn, text)
    text = _PHONE_INTL.sub(_phone_intl, text)
    text = _DATE.sub(_date, text)
    text = _TIME_RANGE.sub(lambda m: f"{_clock(m[1], m[2])} {UNTIL} {_clock(m[3], m[4])}", text)
    text = _TIME_ONE.sub(lambda m: _clock(m[1], m[2]), text)
    text = _DURATION_HOURS.sub(lambda m: f"{HOURS} {spell_number(int(m[1]))}", text)
    text = _PERCENT.sub(lambda m: f"{_spell_numeral(m[1])} {PERCENT}", text)
    text = _DATA.sub(lambda m: f"{_spell_numeral(m[1])} {DATA_UNITS[m[2].lower()]}", text)
    text = _ANY_NUMBER.sub(lambda m: _spell_numeral(m.group(0)), text)
    return textlib.collapse_spaces(text)


# espeak-ng has no Pulaar voice; the Oromo voice reads doubled vowels and consonants as long
# (as Pulaar spells them) but spells out hooked letters it does not know ("b hook").
_ESPEAK_MAP = str.maketrans(
    {"ɓ": "b", "Ɓ": "B", "ɗ": "d", "Ɗ": "D", "ƴ": "y", "Ƴ": "Y", "ñ": "ny", "Ñ": "Ny", "ŋ": "ng",
     "Ŋ": "Ng", "x": "ks", "q": "k", "Q": "K"}
)  # fmt: skip
_C_NOT_CH = re.compile(r"([cC])(c?)(?!h)")


def espeak_spelling(text: str) -> str:
    """verbalise()d text respelled for the espeak-ng Oromo voice (the pack's espeak voice).

    c -> ch (cc -> cch): Oromo c is an ejective; ch is the plain [tʃ] close to Pulaar c.
    """
    text = textlib.fold_apostrophes(text).translate(_ESPEAK_MAP)
    return _C_NOT_CH.sub(r"\1\2h", text)
