"""French number words (num2words "fr", traditional spelling: "vingt et un", "deux cents").

Adds what num2words leaves out: feminine "une" (une heure, vingt et une minutes), plural-free
ordinals ("deux cent quatre-vingtième", not "-vingtsième"), digit-by-digit and group readings.
"""

from __future__ import annotations

import re

from num2words import num2words

DIGITS = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")
MONTHS = (
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


def cardinal(n: int, feminine: bool = False) -> str:
    words = num2words(n, lang="fr")
    if feminine:
        words = re.sub(r"\bun$", "une", words)  # vingt et un -> vingt et une; un million stays
    return words


def ordinal(n: int, feminine: bool = False) -> str:
    if n == 1:
        return "première" if feminine else "premier"
    words = num2words(n, lang="fr", to="ordinal")
    return re.sub(r"(vingt|cent)sième$", r"\1ième", words)


def digits(s: str) -> str:
    """One digit at a time: "0401" -> "zéro quatre zéro un"."""
    return " ".join(DIGITS[int(c)] for c in s if c.isdigit())


def group(s: str) -> str:
    """A written digit group as people say it: leading zeros as "zéro", the rest as a number:
    "45" -> "quarante-cinq", "05" -> "zéro cinq", "00" -> "zéro zéro", "012" -> "zéro douze"."""
    rest = s.lstrip("0")
    zeros = ["zéro"] * (len(s) - len(rest))
    return " ".join(zeros + ([cardinal(int(rest))] if rest else []))


def decimal(int_part: str, frac_part: str, feminine: bool = False) -> str:
    """1,5 -> "un virgule cinq"; 2,50 -> "deux virgule cinquante"; 0,05 -> "zéro virgule zéro cinq"."""
    return f"{cardinal(int(int_part), feminine)} virgule {group(frac_part)}"


def number(s: str, feminine: bool = False) -> str:
    """A plain integer: leading-zero codes (PIN 0000) and very long runs digit by digit."""
    if (len(s) > 1 and s.startswith("0")) or len(s) > 9:
        return digits(s)
    return cardinal(int(s), feminine)
