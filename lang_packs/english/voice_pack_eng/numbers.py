"""English number words (num2words "en"), shaped for espeak-ng and Whisper.

num2words writes British-style "one hundred and one" and puts commas inside large numbers
("nine hundred and ninety-nine million, nine hundred ..."). Both are dropped: a comma makes espeak
pause mid-number, and with espeak-ng en-us + Whisper base the "and" form was misheard where the
plain form was not ("three hundred and fifty megabytes" came back as "100 and 50", "three hundred
fifty megabytes" as "350"). "one hundred fifty" is also ordinary (American-style) English.
"""

from __future__ import annotations

from num2words import num2words

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _plain(words: str) -> str:
    return words.replace(",", "").replace(" and ", " ")


def cardinal(n: int) -> str:
    return _plain(num2words(n, lang="en"))


def ordinal(n: int) -> str:
    return _plain(num2words(n, lang="en", to="ordinal"))


def year(n: int) -> str:
    """2026 -> "twenty twenty-six", 2000 -> "two thousand", 2005 -> "two thousand five"."""
    return _plain(num2words(n, lang="en", to="year"))


def digits(s: str) -> str:
    """Read a digit string one digit at a time: "0401" -> "zero four zero one"."""
    return " ".join(DIGITS[int(c)] for c in s if c.isdigit())


def decimal(int_part: str, frac_part: str) -> str:
    """1.25 -> "one point two five" (English reads the decimals digit by digit)."""
    return f"{cardinal(int(int_part))} point {digits(frac_part)}"


def number(s: str) -> str:
    """A plain integer as written: codes with a leading zero (PIN 0000) and very long digit runs
    (IDs, references) are read digit by digit, the rest as a cardinal."""
    if (len(s) > 1 and s.startswith("0")) or len(s) > 9:
        return digits(s)
    return cardinal(int(s))


def service_number(s: str) -> str:
    """A short number to call. Four digits are said in pairs, as English speakers say them and as
    Whisper writes them back: 1400 -> "fourteen hundred", 1413 -> "fourteen thirteen"; round
    thousands, leading zeros and other lengths digit by digit."""
    if len(s) == 4 and s[0] != "0" and s[1] != "0" and not s.endswith("000"):
        return year(int(s))
    return digits(s)
