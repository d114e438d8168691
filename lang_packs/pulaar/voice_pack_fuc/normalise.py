"""Pulaar text for comparison (ASR scoring, intent matching): one spelling per word.

Rules, in order (each one documented in the pack README):
1. NFC; Adlam transliterated to the Senegalese Latin orthography.
2. Transcript markup from the Kallaama STM files dropped: noise tags ([r] [musique] ...),
   hesitations (%e %hum), "ignore_time_segment_in_scoring", truncated words (pa* win()),
   and language tags (":fra", ":wolof") -- the tagged French or Wolof word itself is kept.
3. Apostrophe look-alikes (’ ‘ ʼ ` ´ and the saltillo ꞌ used for the glottal stop) -> ' .
4. Letter variants: Guinea ɲ -> ñ, ň -> ñ, ɣ -> ƴ (a keyboard confusion seen in the corpus).
5. Keyboard substitutes: b' d' y' inside a word -> ɓ ɗ ƴ (wad'aa -> waɗaa, aab'nde ->
   aaɓnde; not before h or a final 's: aujourd'hui, Webb's); at the start of a word only b'
   and y' before a vowel (d' there is the French elision d'accord). The digit 6 touching a
   letter -> ɓ (rew6e, 6e, nju66udi; not 16e or 6ème). "ny" before a vowel -> ñ (nyalnde,
   kanyum). The Hausa-style prefix apostrophe ('b 'd) is NOT mapped: in this corpus "'d"
   follows a glottal stop or marks a syllable break (wi'de, fa'de).
6. An apostrophe between a nasal and b d g j (won'de, in'de) is dropped: the standard
   spelling is "wonde". The glottal stop between vowels stays (go'o, wi'i).
7. Lower case, punctuation and hyphens to spaces, edge quotes dropped, spaces collapsed.
"""

from __future__ import annotations

import re

from voice.packs import text as textlib
from voice_pack_fuc import adlam

# Apostrophes the core folds, plus the saltillo (U+A78B/U+A78C) and modifier letter prime.
EXTRA_APOSTROPHES = "\ua78b\ua78c\u02b9\u2032"
_LETTER_VARIANTS = str.maketrans({"ɲ": "ñ", "Ɲ": "Ñ", "ň": "ñ", "Ň": "Ñ", "ɣ": "ƴ", "Ɣ": "Ƴ"})
_HOOKED = {"b": "ɓ", "d": "ɗ", "y": "ƴ", "B": "Ɓ", "D": "Ɗ", "Y": "Ƴ"}

_STM_IGNORE = re.compile(r"ignore_time_segment_in_scoring")
_NOISE_TAG = re.compile(r"\[[^\]]*\]")
_HESITATION = re.compile(r"(?<!\S)%\S*")
# ":fra" after a French word; glued typos (":frayaltinama") are split off as well.
_LANG_TAG = re.compile(r":(?:fra|wolof|eng)|:(?:fr|far|fa|fea|ra|que|wol|en)\b", re.IGNORECASE)
_TRUNCATED = re.compile(r"(?<!\S)\S*(?:\(\)|\*)(?!\S)")
# "d' :fra identité :fra" -> "d'identité": rejoin a French elision split by the tags.
_SPLIT_ELISION = re.compile(r"(?<![\w'])((?:[cdjlmnst]|qu|jusqu)['’]) *:(?:fra|fr|far|fa)\b *", re.IGNORECASE)

_VOWEL = "aeiouAEIOU"
_INNER_HOOK = re.compile(r"(?<=[^\W\d_])([bdyBDY])'(?=[^\W\d_hH])(?!s\b)")
_INITIAL_HOOK = re.compile(rf"(?<![\w'])(?:([bB])|([yY])(?!'a\b))'(?=[{_VOWEL}])")
_NASAL_APOSTROPHE = re.compile(r"(?<=[mnMN])'(?=[bdgjBDGJ])")
_SIXES = re.compile(r"(?<!\d)6+(?!\d)")
_ORDINAL_AFTER = re.compile(r"(?:e|è)me\b|è\b|eme\b", re.IGNORECASE)
_NY = re.compile(r"([nN])[yY](?=[aeiouAEIOU])")
_HYPHENS = re.compile(r"[-‐‑–—]")


def strip_transcript_markup(text: str) -> str:
    """Remove Kallaama STM annotations, keeping the words that were said."""
    text = _STM_IGNORE.sub(" ", text)
    text = _SPLIT_ELISION.sub(r"\1", text)
    text = _NOISE_TAG.sub(" ", text)
    text = _LANG_TAG.sub(" ", text)
    text = _HESITATION.sub(" ", text)
    text = _TRUNCATED.sub(" ", text)
    return textlib.collapse_spaces(text)


def fold_apostrophes(text: str) -> str:
    text = textlib.fold_apostrophes(text)
    return text.translate({ord(c): "'" for c in EXTRA_APOSTROPHES})


def _six_as_hook(m: re.Match[str]) -> str:
    """6 touching a letter is a ɓ typed on a phone keyboard; 6ème/6è stay ordinals."""
    text, start, end = m.string, m.start(), m.end()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    touching = before.isalpha() or after.isalpha()
    if not touching or (not before.isalpha() and _ORDINAL_AFTER.match(text, end)):
        return m.group(0)
    return "ɓ" * len(m.group(0))


def _initial_hook(m: re.Match[str]) -> str:
    return _HOOKED[m.group(1) or m.group(2)]


def fix_orthography(text: str) -> str:
    """Spelling variants -> the Senegalese orthography; case and punctuation are kept."""
    text = fold_apostrophes(textlib.nfc(adlam.to_latin(text)))
    text = text.translate(_LETTER_VARIANTS)
    text = _SIXES.sub(_six_as_hook, text)
    text = _NY.sub(lambda m: "Ñ" if m.group(1) == "N" else "ñ", text)
    text = _INNER_HOOK.sub(lambda m: _HOOKED[m.group(1)], text)
    text = _INITIAL_HOOK.sub(_initial_hook, text)
    return _NASAL_APOSTROPHE.sub("", text)


def normalise(text: str) -> str:
    text = strip_transcript_markup(textlib.nfc(text))
    text = fix_orthography(text)
    text = _HYPHENS.sub(" ", text)
    return textlib.basic_normalise(text)
