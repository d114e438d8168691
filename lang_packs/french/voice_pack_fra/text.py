"""French text hooks (Senegal): normalise() for comparison, verbalise() for speech.

verbalise() writes numbers, money, phone numbers, dates, times, percentages, ordinals, USSD
codes and a few abbreviations as words, because espeak-ng reads digits and symbols poorly.
The rules run in a fixed order, specific patterns (USSD codes, dates, times, money, phone
numbers) before the plain-number rule that would otherwise eat their digits.

Reading conventions (see README, "Conventions de lecture"):
- numbers as written in Senegal: "2 000", "2.000" and "2000" are all 2000; "1,5" is a decimal;
- phone numbers group by group, each group as a number, as people in Senegal say them:
  "77 123 45 67" -> "soixante-dix-sept, cent vingt-trois, quarante-cinq, soixante-sept";
- ticket, reference, PIN and PUK numbers digit by digit; service numbers ("le 1400") as numbers;
- dates "22/11/2026" -> "le vingt-deux novembre deux mille vingt-six"; times on the 24-hour
  clock "08:30" / "8h30" -> "huit heures trente".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from voice.packs import text as textlib
from voice_pack_fra import numbers as nw

ABBREVIATIONS = (
    "M.",
    "MM.",
    "Mme.",
    "Dr.",
    "Pr.",
    "St.",
    "av.",
    "bd.",
    "cf.",
    "ex.",
    "p.",
    "tél.",
    "réf.",
    "n°.",
)

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

_SPACE_CHARS = {ord("\u00a0"): " ", ord("\u202f"): " ", ord("\u2009"): " "}
# French groups thousands with a space or a dot ("2 000", "2.000") and writes decimals with a comma.
_NUMBER = r"\d{1,3}(?:[ .]\d{3})+(?![\d])(?:,\d+)?|\d+(?:[,.]\d+)?"
_TIME = r"([01]?\d|2[0-3])\s?[:h]\s?([0-5]\d)"
# Nouns that make "un" feminine: une heure, vingt et une minutes, une carte SIM.
_FEMININE = re.compile(
    r"\s+(?:heures?|minutes?|secondes?|semaines?|fois|cartes?|personnes?|journées?|années?|offres?|"
    r"recharges?|tentatives?|puces?|agences?|boutiques?)\b",
    re.IGNORECASE,
)


def amount_words(s: str, feminine: bool = False) -> str:
    """Words for a written number: "2 000" / "2.000" -> deux mille, "1,5" -> un virgule cinq."""
    s = s.strip()
    if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+", s):
        return nw.number(re.sub(r"[ .]", "", s), feminine)
    whole, _, frac = re.sub(r"[ .](?=\d{3}\b)", "", s).replace(".", ",").partition(",")
    if frac:
        return nw.decimal(whole, frac, feminine)
    return nw.number(whole, feminine)


def _below_two(s: str) -> bool:
    """French puts units in the singular below two: un franc, 1,5 gigaoctet."""
    return float(re.sub(r"[ .](?=\d{3}\b)", "", s).replace(",", ".")) < 2


def _with_unit(amount: str, singular: str, plural: str, feminine: bool = False) -> str:
    words = amount_words(amount, feminine)
    if re.search(r"(millions?|milliards?)$", words):
        return f"{words} de {plural}"  # deux millions de francs CFA
    return f"{words} {singular if _below_two(amount) else plural}"


# -- rule callbacks ----------------------------------------------------------------------------
def _ussd(m: re.Match[str]) -> str:
    """*123*1# -> étoile un deux trois étoile un dièse; words inside (*100*code#) are kept."""
    out = []
    for tok in re.findall(r"\d|[*#]|[^\W\d_]+", m.group(0)):
        out.append({"*": "étoile", "#": "dièse"}.get(tok) or (nw.digits(tok) if tok.isdigit() else tok))
    return " ".join(out)


def _date(m: re.Match[str]) -> str:
    article, day, month, yr = m.group("art"), int(m.group("d")), int(m.group("m")), m.group("y")
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    day_words = "premier" if day == 1 else nw.cardinal(day)
    words = f"{article or 'le'} {day_words} {nw.MONTHS[month - 1]}"
    if yr:
        words += f" {nw.cardinal(int(yr) + 2000 if len(yr) == 2 else int(yr))}"
    return words


def _iso_date(m: re.Match[str]) -> str:
    yr, month, day = m.group("y"), int(m.group("m")), int(m.group("d"))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    day_words = "premier" if day == 1 else nw.cardinal(day)
    return f"{m.group('art') or 'le'} {day_words} {nw.MONTHS[month - 1]} {nw.cardinal(int(yr))}"


def clock(hour: int, minute: int) -> str:
    """24-hour reading: 08:30 -> huit heures trente, 21:01 -> vingt et une heures une, 12:00 -> midi."""
    if minute == 0 and hour in (0, 12):
        return "minuit" if hour == 0 else "midi"
    words = f"{nw.cardinal(hour, feminine=True)} {'heure' if hour < 2 else 'heures'}"
    return f"{words} {nw.cardinal(minute, feminine=True)}" if minute else words


def _time(m: re.Match[str]) -> str:
    start = clock(int(m.group(1)), int(m.group(2)))
    if m.group(3) is None:
        return start
    return f"{start} à {clock(int(m.group(3)), int(m.group(4)))}"


def _hours(m: re.Match[str]) -> str:
    """ "8h", "24h", "48 h" (a time of day or a duration: both read "... heures")."""
    n = int(m.group(1))
    return f"{nw.cardinal(n, feminine=True)} {'heure' if n < 2 else 'heures'}"


def _money_cfa(m: re.Match[str]) -> str:
    return _with_unit(m.group(1), "franc CFA", "francs CFA")


def _money_francs(m: re.Match[str]) -> str:
    return _with_unit(m.group(1), "franc", "francs")


_CURRENCIES = {"gmd": ("dalasi", "dalasis"), "€": ("euro", "euros"), "eur": ("euro", "euros")}
_CURRENCIES |= {"$": ("dollar", "dollars"), "usd": ("dollar", "dollars")}


def _money_other(m: re.Match[str]) -> str:
    return _with_unit(m.group(1), *_CURRENCIES[m.group(2).lower()])


_UNITS = {
    "go": ("gigaoctet", "gigaoctets", False),
    "gb": ("gigaoctet", "gigaoctets", False),
    "mo": ("mégaoctet", "mégaoctets", False),
    "mb": ("mégaoctet", "mégaoctets", False),
    "ko": ("kilooctet", "kilooctets", False),
    "kb": ("kilooctet", "kilooctets", False),
    "to": ("téraoctet", "téraoctets", False),
    "min": ("minute", "minutes", True),
    "mn": ("minute", "minutes", True),
    "j": ("jour", "jours", False),
    "km": ("kilomètre", "kilomètres", False),
    "kg": ("kilogramme", "kilogrammes", False),
}


def _unit(m: re.Match[str]) -> str:
    singular, plural, feminine = _UNITS[m.group(2).lower()]
    return _with_unit(m.group(1), singular, plural, feminine)


def _percent(m: re.Match[str]) -> str:
    return f"{amount_words(m.group(1))} pour cent"


def _phone_groups(groups: list[str]) -> str:
    # A four-digit group is said as two pairs: "3456" -> trente-quatre, cinquante-six.
    pieces = [p for g in groups for p in ((g[:2], g[2:]) if len(g) == 4 else (g,))]
    return ", ".join(nw.group(p) for p in pieces)


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
            groups = [flat[:3], flat[3:5], flat[5:]]
    else:
        return m.group(0)
    prefix = f"plus {nw.cardinal(int(cc))}, " if cc else ""
    return prefix + _phone_groups(groups)


def _intl_phone(m: re.Match[str]) -> str:
    groups = [g for g in re.split(r"[ .\-]", m.group(2)) if g]
    return f"plus {nw.cardinal(int(m.group(1)))}, {_phone_groups(groups)}"


def _keyword_digits(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}{nw.digits(m.group(3))}"


def _ordinal(m: re.Match[str]) -> str:
    feminine = m.group(2).lower() in ("re", "ère", "ere")
    return nw.ordinal(int(m.group(1)), feminine)


def _range(m: re.Match[str]) -> str:
    return f"{m.group(1)} à {m.group(2)}"


def _number(m: re.Match[str]) -> str:
    feminine = _FEMININE.match(m.string, m.end()) is not None
    return amount_words(m.group(0), feminine)


def _alnum(m: re.Match[str]) -> str:
    """A code mixing letters and digits (TK-2041, 4G): letters spelled, digits one by one."""
    out = []
    for run in re.findall(r"[^\W\d_]+|\d+", m.group(0)):
        out.append(nw.digits(run) if run.isdigit() else " ".join(run.upper()))
    return " ".join(out)


def _word(table: dict[str, str]) -> Callable[[re.Match[str]], str]:
    return lambda m: table[m.group(0)]


# Whole-word replacements, case-sensitive: abbreviations read the way callers say them.
_WORDS = {
    "FCFA": "francs CFA",
    "XOF": "francs CFA",
    "GMD": "dalasis",
    "SIM": "sim",  # "carte SIM" is said as a word, espeak would spell it
    "PIN": "pine",  # "code PIN" is said "code pine"
    "PUK": "puk",
    "APN": "A P N",
    "USSD": "U S S D",
    "SMS": "S M S",
    "GB": "gigaoctets",
    "MB": "mégaoctets",
    "M.": "monsieur",
    "Mme": "madame",
    "Mlle": "mademoiselle",
    "Dr": "docteur",
    "etc.": "et cetera",
    "n°": "numéro",
    "N°": "numéro",
    "tél.": "téléphone",
    "Tél.": "téléphone",
}
_SYMBOLS = {"%": " pour cent ", "&": " et ", "@": " arobase ", "+": " plus ", "#": " dièse ", "*": " étoile "}
_SYMBOLS |= {"=": " égale ", "°": " degrés ", "€": " euros ", "$": " dollars "}

_AMOUNT = _NUMBER
_SEP = r"[ .\-]"
RULES: list[Rule] = [
    (re.compile(r"\b24\s?h?\s?/\s?24\b"), lambda m: "vingt-quatre heures sur vingt-quatre"),
    (re.compile(r"\b7\s?j\s?/\s?7\b"), lambda m: "sept jours sur sept"),
    (re.compile(r"\b24\s?/\s?7\b"), lambda m: "vingt-quatre heures sur vingt-quatre, sept jours sur sept"),
    (re.compile(r"(?<![\w*#])[*#][\w*#]*\d[\w*#]*#"), _ussd),
    (re.compile(r"(?i:\b(n°|no\.?)\s?)(?=\d)"), lambda m: "numéro "),
    (
        re.compile(
            r"(?:\b(?P<art>[Ll]e|[Dd]u|[Aa]u|[Cc]e)\s+)?(?<![\d/.-])"
            r"(?P<d>\d{1,2})([/.-])(?P<m>\d{1,2})\3(?P<y>\d{4})\b"
        ),
        _date,
    ),
    (
        re.compile(
            r"(?:\b(?P<art>[Ll]e|[Dd]u|[Aa]u|[Cc]e)\s+)?(?<![\d/])"
            r"(?P<d>\d{1,2})/(?P<m>\d{1,2})(?:/(?P<y>\d{2}))?(?![\d/])"
        ),
        _date,
    ),
    (
        re.compile(r"(?:\b(?P<art>[Ll]e|[Dd]u|[Aa]u|[Cc]e)\s+)?\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b"),
        _iso_date,
    ),
    (re.compile(rf"(?<![\d:]){_TIME}(?:\s*(?:[–—-]|à)\s*{_TIME})?(?![\d:])"), _time),
    (re.compile(r"(?<![\w.,])(\d{1,3})\s?h\b"), _hours),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(?:F\s?CFA|FCFA|CFA|XOF)(?![\w])(?!\s*francs?\b)"), _money_cfa),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(?:F|frs?|Frs?)(?![\w])(?!\s*CFA\b)"), _money_francs),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(GMD|EUR|USD|€|\$)(?![\w])", re.IGNORECASE), _money_other),
    (re.compile(rf"(?<![\w.,])({_AMOUNT})\s?(Go|GB|Mo|MB|Ko|KB|To|min|mn|j|km|kg)\b"), _unit),
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
            r"\b(ticket|référence|réf\.?|code|PIN|PUK|numéro de ticket|dossier)"
            r"((?:\s+(?:est|numéro|n°|:|pine|puk|secret))*\s*:?\s*)(\d{3,})\b",
            re.IGNORECASE,
        ),
        _keyword_digits,
    ),
    (re.compile(r"\b(\d+)(ère|ere|re|er|ème|eme|è|e)\b"), _ordinal),
    (re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[^\W\d_])[^\W_]+(?:-[^\W_]+)*\b"), _alnum),
    (re.compile(rf"(?<![\w.,])({_NUMBER})\s?[–—-]\s?({_NUMBER})(?![\w])"), _range),
    (re.compile(rf"(?<![\w.,])(?:{_NUMBER})(?![\w])"), _number),
    (re.compile(r"(?<![\w.])(?:" + "|".join(re.escape(w) for w in _WORDS) + r")(?![\w])"), _word(_WORDS)),
]


def verbalise(text: str) -> str:
    """Text for espeak-ng: no digits or telecom symbols left; everything else unchanged."""
    text = textlib.fold_apostrophes(textlib.nfc(text)).translate(_SPACE_CHARS)
    for pattern, fn in RULES:
        text = pattern.sub(fn, text)
    text = re.sub(r"(?<=\w)\s*/\s*(?=\w)", " ou ", text)  # "carte d'identité/passeport"
    text = re.sub(r"(?<=\w)[–—](?=\w)", " à ", text)  # "lundi–samedi"
    text = re.sub(r"\s+[–—]\s+", ", ", text)  # a spaced dash is a pause
    text = "".join(_SYMBOLS.get(c, c) for c in text)
    return textlib.collapse_spaces(text)


# -- normalise ---------------------------------------------------------------------------------
_DECIMAL_MARK = "zzvirgzz"  # a word-character placeholder: basic_normalise strips real punctuation
_NOISE = re.compile(r"\[[^\]]*\]|<[^>]*>")
_PHONE_FOR_COMPARE = re.compile(r"(?<![\w+])(\+|00)?(\d{2,3}(?:[ .\-]\d{2,4}){2,4})(?![\w])")
_GROUPED = re.compile(r"(?<![\d,])\d{1,3}(?:[ .]\d{3})+(?![\d])")


def _join_phone(m: re.Match[str]) -> str:
    digits = re.sub(r"[ .\-]", "", m.group(2))
    if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+", m.group(2)):
        return m.group(0)  # "200 000 000" is a number; _GROUPED joins it
    return (m.group(1) or "") + digits


def normalise(text: str) -> str:
    """Comparison form: NFC, one apostrophe, lower case, punctuation and noise tags removed,
    elisions kept (l'argent, j'ai); "2 000", "2.000" and "2000" all become "2000"; phone numbers
    one digit string; decimals "1,5" (a dot decimal too); "%" as "pour cent"."""
    text = textlib.fold_apostrophes(textlib.nfc(text)).translate(_SPACE_CHARS)
    text = _NOISE.sub(" ", text)
    text = _PHONE_FOR_COMPARE.sub(_join_phone, text)
    text = _GROUPED.sub(lambda m: re.sub(r"[ .]", "", m.group(0)), text)
    text = re.sub(r"(?<=\d)\s?%", " pour cent", text)
    text = re.sub(r"(?<=\d)[.,](?=\d)", _DECIMAL_MARK, text)
    return textlib.basic_normalise(text).replace(_DECIMAL_MARK, ",")
