"""Pulaar (Fuuta Tooro) cardinal numbers written out in words.

No Pulaar number reader exists elsewhere, so the forms here were checked against the Kallaama
Pulaar web text, where numbers are often written twice, "noogaas e jeegom ( 26 )":

    noogaas e nay (24)          capanɗe nay (40)             teemedde ɗiɗi e noogaas (220)
    ujunere e teemedde nay (1400)   ujunnaaje jeegom (6 000)   teemedde tati ujunere (300 000)
    sappo e tati miliyoŋ (13 000 000)   miliyoŋaaji ɗiɗi (2 000 000)

Simplification (to be reviewed by a native speaker): Pulaar numerals agree with the noun
class of what is counted (ɗiɗo / tato / nayo for people, njeetato, nayi, joyi ...). We always
use the plain counting forms below, whatever follows, e.g. "teemedde nay mbuuɗu" where
careful speech may say "teemedde nayi mbuuɗu".

Large numbers: a multiplier of 2-9 follows the plural scale word ("ujunnaaje ɗiɗi", 2000);
a multiplier of 10 or more precedes the singular one ("sappo e ɗiɗi ujunere", 12 000), which
keeps the end of the multiplier audible. Both orders occur in the corpus.
"""

from __future__ import annotations

ZERO = "ɓolum"
UNITS = ("", "go'o", "ɗiɗi", "tati", "nay", "joy", "jeegom", "jeeɗiɗi", "jeetati", "jeenay")
TEN = "sappo"
TWENTY = "noogaas"
TENS_PREFIX = "capanɗe"  # capanɗe tati = 30 ... capanɗe jeenay = 90
HUNDRED = "teemedere"
HUNDREDS_PREFIX = "teemedde"  # teemedde ɗiɗi = 200
AND = " e "

# (value, singular, plural) from the largest down: 1000 = ujunere, 2000 = ujunnaaje ɗiɗi.
SCALES = (
    (1_000_000_000, "miliyaar", "miliyaaruuji"),
    (1_000_000, "miliyoŋ", "miliyoŋaaji"),
    (1_000, "ujunere", "ujunnaaje"),
)
MAX = 999_999_999_999


def _below_hundred(n: int) -> str:
    if n < 10:
        return UNITS[n]
    tens, unit = divmod(n, 10)
    if tens == 1:
        head = TEN
    elif tens == 2:
        head = TWENTY
    else:
        head = f"{TENS_PREFIX} {UNITS[tens]}"
    return head + (AND + UNITS[unit] if unit else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = []
    if hundreds == 1:
        parts.append(HUNDRED)
    elif hundreds > 1:
        parts.append(f"{HUNDREDS_PREFIX} {UNITS[hundreds]}")
    if rest:
        parts.append(_below_hundred(rest))
    return AND.join(parts)


def _scaled(count: int, singular: str, plural: str) -> str:
    if count == 1:
        return singular
    if count < 10:
        return f"{plural} {UNITS[count]}"
    return f"{_below_thousand(count)} {singular}"


def number_to_words(n: int) -> str:
    """0 <= n <= 999 999 999 999 in words; parts are joined with "e" (and)."""
    if n < 0:
        raise ValueError(f"negative numbers are not spelled: {n}")
    if n > MAX:
        raise ValueError(f"{n} is too large to spell (max {MAX})")
    if n == 0:
        return ZERO
    parts = []
    for value, singular, plural in SCALES:
        count, n = divmod(n, value)
        if count:
            parts.append(_scaled(count, singular, plural))
    if n:
        parts.append(_below_thousand(n))
    return AND.join(parts)


def digits_to_words(digits: str) -> str:
    """A digit string as people read a phone-number group: leading zeros one by one."""
    stripped = digits.lstrip("0")
    zeros = [ZERO] * (len(digits) - len(stripped))
    return " ".join([*zeros, number_to_words(int(stripped))] if stripped else zeros)
