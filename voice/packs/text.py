"""Language-neutral text helpers that packs build on (and use as defaults)."""

from __future__ import annotations

import re
import unicodedata

# Apostrophe look-alikes folded to one ASCII apostrophe.
APOSTROPHES = "\u2019\u2018\u02bc\u02bb\u0060\u00b4\u2032"
_PUNCT = re.compile(r"[^\w\s']+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)\]]*\s+(?=\S)|\n+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold_apostrophes(text: str) -> str:
    return text.translate({ord(c): "'" for c in APOSTROPHES})


def collapse_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def basic_normalise(text: str) -> str:
    """NFC, one apostrophe, lower case, punctuation dropped, spaces collapsed."""
    text = fold_apostrophes(nfc(text)).casefold()
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"(^|\s)'+|'+(\s|$)", " ", text)  # quotes, not elisions
    return collapse_spaces(text)


def split_sentences(text: str, abbreviations: tuple[str, ...] = ()) -> list[str]:
    """Split after . ! ? … (and at newlines), not after listed abbreviations or inside numbers."""
    # Newlines end sentences: split on them first, then collapse spaces within each line.
    lines = [collapse_spaces(line) for line in text.replace("\r", "\n").split("\n")]
    pieces = [p for line in lines if line for p in _SENTENCE_END.split(line)]
    sentences: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        if sentences and _ends_with_abbreviation(sentences[-1], abbreviations):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences


def _ends_with_abbreviation(sentence: str, abbreviations: tuple[str, ...]) -> bool:
    last = sentence.rsplit(" ", 1)[-1].lower()
    return any(last == a.lower() for a in abbreviations)
