"""Wolof cardinal numbers in words (CLAD spelling, forms as written in the Kallaama transcripts).

Wolof counts in fives: 6 = juróom-benn (5+1), 7 = juróom-ñaar ... Tens multiply fukk (10):
ñaar fukk (20), with the old word fanweer for 30; hundreds and thousands take the connective
-i on their multiplier: ñaari téeméer (200), ñetti junni (3000). Parts join with `ak`:
téeméer ak ñaar (102), junni ak juróomi téeméer (1500).

Before a noun the last word takes the connective too (`attributive=True`): ñaari hectares,
juróom fukk ak ñaari tool (Kallaama), fukki dërëm; a plain `benn` stays benn (benn tool).
"""

from __future__ import annotations

UNITS = ("tus", "benn", "ñaar", "ñett", "ñeent", "juróom")
FUKK, FANWEER, TEEMEER, JUNNI = "fukk", "fanweer", "téeméer", "junni"
MILLION, MILLIARD = "million", "milliard"
AK = " ak "
MAX = 999_999_999_999


def _connective(words: str) -> str:
    """Add the -i connective to the last word: ñaar -> ñaari, juróom-benn -> juróom-benni."""
    head, _, last = words.rpartition(" ")
    if last.endswith("i") or last in (MILLION, MILLIARD, "tus"):
        return words
    return f"{head} {last}i" if head else f"{last}i"


def _below_ten(n: int) -> str:
    return UNITS[n] if n <= 5 else f"juróom-{UNITS[n - 5]}"


def _below_hundred(n: int) -> str:
    tens, rest = divmod(n, 10)
    if tens == 0:
        return _below_ten(n)
    head = {1: FUKK, 3: FANWEER}.get(tens) or f"{_below_ten(tens)} {FUKK}"
    return head + (AK + _below_ten(rest) if rest else "")


def _multiplied(count: int, base: str) -> str:
    """`count` times a base word: junni (1000), ñaari junni, ñaar fukki junni, benn million."""
    if count == 1 and base in (TEEMEER, JUNNI):
        return base
    return f"{spell(count, attributive=True)} {base}"


def spell(n: int, attributive: bool = False) -> str:
    """A non-negative integer (up to 999 999 999 999) in Wolof words."""
    if n < 0:
        raise ValueError("negative numbers are not spelled")
    if n > MAX:
        raise ValueError(f"{n} is above {MAX}")
    parts: list[str] = []
    for size, base in ((1_000_000_000, MILLIARD), (1_000_000, MILLION), (1000, JUNNI), (100, TEEMEER)):
        count, n = divmod(n, size)
        if count:
            parts.append(_multiplied(count, base))
    if n or not parts:
        parts.append(_below_hundred(n))
    words = AK.join(parts)
    if attributive and words != UNITS[1]:
        words = _connective(words)
    return words


def spell_digits(digits: str) -> str:
    """Digit by digit (codes, references): 1400 -> benn ñeent tus tus."""
    return " ".join(_below_ten(int(d)) for d in digits if d.isdigit())


def spell_group(digits: str) -> str:
    """A phone-number group as people say it: 77 -> one number, 05 -> tus juróom."""
    zeros = len(digits) - len(digits.lstrip("0"))
    rest = digits[zeros:]
    words = ["tus"] * zeros + ([spell(int(rest))] if rest else [])
    return " ".join(words)
