"""Adlam (U+1E900-U+1E95F) to the Senegalese Latin orthography, for comparing text.

Pulaar is also written in Adlam. The letters map one to one onto Latin letters; the marks
double the letter before them (vowel length, gemination) or add a glottal stop. The
nasalisation mark is read as a homorganic nasal before the next consonant (mb, nd, nj, ng):
that reading, and dropping the loan-sound modifiers, need checking by an Adlam writer.
"""

from __future__ import annotations

# Index i is U+1E900+i (capital) and U+1E922+i (small).
LETTERS = (
    "a", "d", "l", "m", "b", "s", "p", "ɓ", "r", "e", "f", "i", "o", "ɗ", "ƴ", "w", "n",
    "k", "y", "u", "j", "c", "h", "q", "g", "ñ", "t", "ŋ", "v", "x", "gb", "z", "kp", "sh",
)  # fmt: skip
CAPITAL_START, SMALL_START, COUNT = 0x1E900, 0x1E922, 34
ALIF_LENGTHENER, VOWEL_LENGTHENER, GEMINATION = 0x1E944, 0x1E945, 0x1E946
HAMZA, CONSONANT_MODIFIER, GEMINATE_MODIFIER = 0x1E947, 0x1E948, 0x1E949
NUKTA, NASALISATION = 0x1E94A, 0x1E94B
DIGIT_ZERO = 0x1E950
INITIAL_MARKS = (0x1E95E, 0x1E95F)  # initial ! and ?, Spanish-style: dropped
FIRST, LAST = 0x1E900, 0x1E95F


def has_adlam(text: str) -> bool:
    return any(FIRST <= ord(c) <= LAST for c in text)


def _letter(cp: int) -> str | None:
    if CAPITAL_START <= cp < CAPITAL_START + COUNT:
        return LETTERS[cp - CAPITAL_START].capitalize()
    if SMALL_START <= cp < SMALL_START + COUNT:
        return LETTERS[cp - SMALL_START]
    return None


def _nasal_for(letter: str) -> str:
    return "m" if letter[:1].lower() in ("b", "p") else "n"


def to_latin(text: str) -> str:
    """Transliterate the Adlam in `text`; other characters pass through unchanged."""
    if not has_adlam(text):
        return text
    out: list[str] = []
    pending_nasal = False
    for ch in text:
        cp = ord(ch)
        letter = _letter(cp)
        if letter is not None:
            if pending_nasal:
                out.append(_nasal_for(letter))
                pending_nasal = False
            out.append(letter)
        elif cp in (ALIF_LENGTHENER, VOWEL_LENGTHENER, GEMINATION, GEMINATE_MODIFIER):
            if out and out[-1][-1:].isalpha():
                out.append(out[-1][-1].lower())  # doubled letter = long vowel or geminate
        elif cp == HAMZA:
            out.append("'")
        elif cp == NASALISATION:
            pending_nasal = True
        elif cp in (CONSONANT_MODIFIER, NUKTA) or cp in INITIAL_MARKS:
            continue
        elif DIGIT_ZERO <= cp <= DIGIT_ZERO + 9:
            out.append(str(cp - DIGIT_ZERO))
        else:
            pending_nasal = False
            out.append(ch)
    return "".join(out)
