"""English text hooks: normalise() for comparison, verbalise() for speech.

verbalise() writes numbers, money, phone numbers, dates, times, percentages, ordinals, USSD
codes and a few abbreviations as words: espeak-ng reads digits and symbols poorly, and the
end-to-end tests transcribe its speech with Whisper. The rules run in a fixed order, specific
patterns (USSD codes, dates, times, money, phone numbers) before the plain-number rule that
would otherwise eat their digits.

Reading conventions (see README, "Reading conventions"):
- phone numbers digit by digit, in the groups they are written in, a pause between groups:
  "77 123 45 67" -> "seven seven, one two three, four five, six seven";
- a four-digit number to call in pairs ("call 1400" -> "call fourteen hundred"); ticket,
  reference, PIN and PUK numbers digit by digit; other numbers as cardinals without "and"
  ("2050" -> "two thousand fifty", see numbers.py);
- dates day/month/year ("22/11/2026" -> "the twenty-second of November, twenty twenty-six");
- times on the 12-hour clock ("22:00" -> "ten p.m.").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from voice.packs import text as textlib
from voice_pack_eng import numbers as nw

ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "No.", "e.g.", "i.e.", "vs.", "approx.", "Tel.")

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_SPACE_CHARS = {ord("\u00a0"): " ", ord("\u202f"): " ", ord("\u2009"): " "}
# A written amount: thousands grouped by comma/space/dot ("2,000", "2 000", "2.000"), or plain digits
# with an optional decimal part.
_AMOUNT = r"\d{1,3}(?:[,. ]\d{3})+(?![\d])|\d+(?:\.\d+)?"
# Plain numbers group thousands with commas only: "99 100" is two numbers (money may use spaces).
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"


def amount_words(s: str) -> str:
    """Words for a written amount; a dot or comma followed by exactly three digits groups thousands."""
    s = s.strip()
    if re.fullmatch(r"\d{1,3}(?:[,. ]\d{3})+", s):
        return nw.number(re.sub(r"[,. ]", "", s))
    if "." in s:
        whole, frac = s.replace(",", "").split(".", 1)
        return nw.decimal(whole, frac)
    return nw.number(s.replace(",", ""))


def _is_one(s: str) -> bool:
    return re.sub(r"[,. ]", "", s) == "1"


# -- rule callbacks ----------------------------------------------------------------------------
def _ussd(m: re.Match[str]) -> str:
    """*123*1# -> star one two three star one hash; words inside (*100*code#) are kept."""
    out = []
    for tok in re.findall(r"\d|[*#]|[^\W\d_]+", m.group(0)):
        out.append({"*": "star", "#": "hash"}.get(tok) or (nw.digits(tok) if tok.isdigit() else tok))
    return " ".join(out)


def _date(m: re.Match[str]) -> str:
    article, day, month, yr = m.group("art"), int(m.group("d")), int(m.group("m")), m.group("y")
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    words = f"{article or 'the'} {nw.ordinal(day)} of {nw.MONTHS[month - 1]}"
    if yr:
        words += f", {nw.year(int(yr) + 2000 if len(yr) == 2 else int(yr))}"
    return words


def _iso_date(m: re.Match[str]) -> str:
    article, yr, month, day = m.group("art"), int(m.group("y")), int(m.group("m")), int(m.group("d"))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    return f"{article or 'the'} {nw.ordinal(day)} of {nw.MONTHS[month - 1]}, {nw.year(yr)}"


def clock(hour: int, minute: int) -> str:
    """12-hour reading: 08:30 -> eight thirty a.m., 22:00 -> ten p.m., 07:05 -> seven oh five a.m."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"
    h12 = hour % 12 or 12
    suffix = "a.m." if hour < 12 else "p.m."
    if minute == 0:
        return f"{nw.cardinal(h12)} {suffix}"
    mins = f"oh {nw.cardinal(minute)}" if minute < 10 else nw.cardinal(minute)
    return f"{nw.cardinal(h12)} {mins} {suffix}"


def _time(m: re.Match[str]) -> str:
    start = clock(int(m.group(1)), int(m.group(2)))
    if m.group(3) is None:
        return start
    return f"{start} to {clock(int(m.group(3)), int(m.group(4)))}"


def _ampm(m: re.Match[str]) -> str:
    """8pm, 10:15 am -> the same words as the 24-hour clock (12pm is noon)."""
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if not 1 <= hour <= 12:
        return m.group(0)
    pm = m.group(3).lower() == "p"
    return clock(hour % 12 + (12 if pm else 0), minute)


def _money_cfa(m: re.Match[str]) -> str:
    unit = "CFA franc" if _is_one(m.group(1)) else "CFA francs"
    return f"{amount_words(m.group(1))} {unit}"


def _counted(amount: str, name: str) -> str:
    """ "1 dalasi", "25 dalasis": a regular English plural, singular for exactly one."""
    return f"{amount_words(amount)} {name if _is_one(amount) else name + 's'}"


def _money_after(m: re.Match[str]) -> str:
    unit = m.group(2).lower()
    return _counted(m.group(1), _CURRENCY_NAMES[unit.rstrip("s") if unit.startswith("dalasi") else unit])


def _money_before(m: re.Match[str]) -> str:
    return _counted(m.group(2), _CURRENCY_NAMES[m.group(1).lower()])


_CURRENCY_NAMES = {"gmd": "dalasi", "dalasi": "dalasi", "d": "dalasi", "$": "dollar", "usd": "dollar"}
_CURRENCY_NAMES |= {"€": "euro", "eur": "euro"}

_UNITS = {"gb": "gigabyte", "go": "gigabyte", "mb": "megabyte", "mo": "megabyte", "kb": "kilobyte"}
_UNITS |= {"tb": "terabyte", "h": "hour", "hr": "hour", "hrs": "hour", "min": "minute", "mins": "minute"}
_UNITS |= {"km": "kilometre", "kg": "kilogram"}


def _unit(m: re.Match[str]) -> str:
    return _counted(m.group(1), _UNITS[m.group(2).lower()])


def _percent(m: re.Match[str]) -> str:
    return f"{amount_words(m.group(1))} percent"


def _phone_groups(groups: list[str]) -> str:
    return ", ".join(nw.digits(g) for g in groups)


def _phone(m: re.Match[str]) -> str:
    """Senegalese (9 digits, 7x/33) and Gambian (7 digits) numbers; anything else is left as is."""
    cc, nat = m.group("cc"), m.group("nat")
    groups = re.split(r"[ .\-]", nat)
    flat = "".join(groups)
    grouped = len(groups) > 1
    senegal = len(flat) == 9 and re.match(r"7[05-8]|3[03]", flat) is not None
    gambia = len(flat) == 7 and flat[0] in "23456789"
    if cc == "221" or (cc is None and senegal and (not grouped or len(groups[0]) == 2)):
        if len(flat) != 9:
            return m.group(0)
        if not grouped:
            groups = [flat[:2], flat[2:5], flat[5:7], flat[7:]]
    elif cc == "220" or (cc is None and gambia and grouped and len(groups[0]) == 3):
        if len(flat) != 7:
            return m.group(0)
        if not grouped:
            groups = [flat[:3], flat[3:]]
    else:
        return m.group(0)
    prefix = f"plus {nw.digits(cc)}, " if cc else ""
    return prefix + _phone_groups(groups)


def _intl_phone(m: re.Match[str]) -> str:
    groups = [g for g in re.split(r"[ .\-]", m.group(2)) if g]
    return f"plus {nw.digits(m.group(1))}, {_phone_groups(groups)}"


def _service_number(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{nw.service_number(m.group(3))}"


def _keyword_digits(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{nw.digits(m.group(3))}"


def _ordinal(m: re.Match[str]) -> str:
    return nw.ordinal(int(m.group(1)))


def _range(m: re.Match[str]) -> str:
    return f"{m.group(1)} to {m.group(2)}"


def _number(m: re.Match[str]) -> str:
    return amount_words(m.group(0))


def _alnum(m: re.Match[str]) -> str:
    """A code mixing letters and digits (TK-2041, 4G): letters spelled, digits one by one."""
    out = []
    for run in re.findall(r"[A-Za-z]+|\d+", m.group(0)):
        out.append(nw.digits(run) if run.isdigit() else " ".join(run.upper()))
    return " ".join(out)


def _word(table: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda m: table[m.group(0)]


# Whole-word replacements, case-sensitive (an abbreviation, not the English word "id" or "mb").
_WORDS = {
    "FCFA": "CFA francs",
    "XOF": "CFA francs",
    "GMD": "dalasis",
    "GB": "gigabytes",
    "MB": "megabytes",
    "KB": "kilobytes",
    "APN": "A P N",
    "USSD": "U S S D",
    "SMS": "S M S",
    "ID": "I D",
    "OTP": "O T P",
    "NB": "note",
    "approx.": "approximately",
    "e.g.": "for example",
    "i.e.": "that is",
}
_SYMBOLS = {"%": " percent ", "&": " and ", "@": " at ", "+": " plus ", "#": " hash ", "*": " star "}
_SYMBOLS |= {"=": " equals ", "°": " degrees ", "€": " euros ", "$": " dollars "}

_SEP = r"[ .\-]"
RULES: list[Rule] = [
    (re.compile(r"\b24\s?/\s?7\b"), lambda m: "twenty-four seven"),
    (re.compile(r"(?<![\w*#])[*#][\w*#]*\d[\w*#]*#"), _ussd),
    (
        re.compile(
            r"(?:\b(?P<art>[Tt]he)\s+)?(?<![\d/.-])(?P<d>\d{1,2})([/.-])(?P<m>\d{1,2})\3(?P<y>\d{4})\b"
        ),
        _date,
    ),
    (
        re.compile(
            r"(?:\b(?P<art>[Tt]he)\s+)?(?<![\d/])(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{2}))?(?![\d/])"
        ),
        _date,
    ),
    (re.compile(r"(?:\b(?P<art>[Tt]he)\s+)?\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"), _iso_date),
    (re.compile(r"\b(\d{1,2})(?::([0-5]\d))?\s?([ap])\.?m\b\.?", re.IGNORECASE), _ampm),
    (re.compile(rf"(?<![\d:]){_TIME}(?:\s*[–—-]\s*{_TIME})?(?![\d:])"), _time),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(?:F\s?CFA|FCFA|CFA|XOF|F)(?![\w])(?!\s*francs?\b)"), _money_cfa),
    (
        re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(GMD|dalasis?|USD|EUR|€|\$)(?![\w])", re.IGNORECASE),
        _money_after,
    ),
    (re.compile(rf"(?<![\w.,])(GMD|D|USD|EUR|€|\$)\s?({_AMOUNT})(?![\w])"), _money_before),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(GB|Go|MB|Mo|KB|TB|hrs?|h|mins?|km|kg)\b"), _unit),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?%"), _percent),
    (
        re.compile(
            r"(?<![\w+])(?:(?:\+|\b00)\s?(?P<cc>22[01])[ .\-]?)?"
            rf"(?P<nat>\d{{2,3}}(?:{_SEP}?\d{{2,4}}){{1,3}})(?![\w])"
        ),
        _phone,
    ),
    (re.compile(r"(?<![\w+])\+\s?(\d{1,3})((?:[ .\-]?\d+)+)"), _intl_phone),
    (
        re.compile(
            r"\b(call|dial|ring|phone|hotline|line)((?:\s+(?:us|the|number|is|on|at))*\s+)(\d{3,5})\b", re.I
        ),
        _service_number,
    ),
    (
        re.compile(
            r"\b(ticket|reference|ref|number|code|PIN|PUK|No\.)"
            r"((?:\s+(?:the|number|is|was|no\.?|code))*\s*#?\s*)(\d{3,})\b",
            re.IGNORECASE,
        ),
        _keyword_digits,
    ),
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), _ordinal),
    (re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\b"), _alnum),
    (re.compile(rf"(?<![\w.,])({_NUMBER})\s?[–—-]\s?({_NUMBER})(?![\w])"), _range),
    (re.compile(rf"(?<![\w.,])(?:{_NUMBER})(?![\w])"), _number),
    (re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(w) for w in _WORDS) + r")(?![\w])"), _word(_WORDS)),
]


def verbalise(text: str) -> str:
    """Text for espeak-ng: no digits or telecom symbols left; everything else unchanged."""
    text = textlib.fold_apostrophes(textlib.nfc(text)).translate(_SPACE_CHARS)
    for pattern, fn in RULES:
        text = pattern.sub(fn, text)
    text = re.sub(r"(?<=\w)\s*/\s*(?=\w)", " or ", text)  # "ID card/passport"
    text = re.sub(r"(?<=\w)[–—](?=\w)", " to ", text)  # "Monday–Saturday"
    text = re.sub(r"\s+[–—]\s+", ", ", text)  # a spaced dash is a pause
    text = "".join(_SYMBOLS.get(c, c) for c in text)
    text = re.sub(r"\b([ap])\.m\.\.", r"\1.m.", text)  # "ten p.m." ending a sentence
    return textlib.collapse_spaces(text)


# -- normalise ---------------------------------------------------------------------------------
_DECIMAL_MARK = "zzdeczz"  # a word-character placeholder: basic_normalise strips real punctuation
_NOISE = re.compile(r"\[[^\]]*\]|<[^>]*>")
_PHONE_FOR_COMPARE = re.compile(r"(?<![\w+])(\+|00)?(\d{2,3}(?:[ .\-]\d{2,4}){2,4})(?![\w])")


def _join_phone(m: re.Match[str]) -> str:
    return (m.group(1) or "") + re.sub(r"[ .\-]", "", m.group(2))


def normalise(text: str) -> str:
    """Comparison form: NFC, one apostrophe, lower case, no punctuation or noise tags; numbers as
    bare digits ("2,000" -> "2000"), phone numbers as one digit string, "%" as "percent"."""
    text = textlib.fold_apostrophes(textlib.nfc(text)).translate(_SPACE_CHARS)
    text = _NOISE.sub(" ", text)
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)  # thousands commas
    text = _PHONE_FOR_COMPARE.sub(_join_phone, text)
    text = re.sub(r"(?<=\d)\s?%", " percent", text)
    text = re.sub(r"(?<=\d)\.(?=\d)", _DECIMAL_MARK, text)  # keep decimal points through punctuation removal
    return textlib.basic_normalise(text).replace(_DECIMAL_MARK, ".")
