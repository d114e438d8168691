"""Transcript text: mark-up removal, code-switch tags, the language pack's normaliser.

Transcription conventions handled (Kallaama STM, as in its README; most Kaldi/TRS exports use a
subset): `[r] [b] [mic] [conv]` noise/event tags; `%e %hum` hesitations; `*` unintelligible
(`xa*` a word only partly heard); `xa()` truncated words; `word :fra` or `word:fra` a word in
another language (`:fra` French, `:en` English, `:ar` Arabic, `:wolof` Wolof in Pulaar files,
plus the typos found in the files: `:fr :frau :fre :far :fa :fea :ra`).

The core never names a language: the pack for the manifest's language normalises (`normalise()`
gets the tagged transcript, so packs can leave tagged French words in French spelling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from voice.packs import text as textlib

# Tag -> ISO 639-3. Unknown tags are kept as written (lower case).
TAG_LANGUAGES = {
    "fra": "fra", "fr": "fra", "frau": "fra", "fre": "fra", "far": "fra", "fa": "fra", "fea": "fra",
    "ra": "fra", "french": "fra",
    "en": "eng", "eng": "eng", "an": "eng",
    "ar": "ara", "ara": "ara",
    "wolof": "wol", "wol": "wol", "wo": "wol",
    "pulaar": "fuc", "fuc": "fuc",
}  # fmt: skip
_NOISE = re.compile(r"\[[^\]]*\]")
_TAG = re.compile(r"^:([^\W\d_]*)$")
_GLUED = re.compile(r"^(?P<word>.+?):(?P<tag>[^\W\d_]+)$")
_HESITATION = re.compile(r"^%")
_SKIP_MARKERS = ("ignore_time_segment_in_scoring", "inter_segment_gap")


def tag_language(tag: str) -> str:
    """ISO 639-3 for a transcript tag; `fr...` typos are French; unknown tags stay as written."""
    tag = tag.lower()
    if tag in TAG_LANGUAGES:
        return TAG_LANGUAGES[tag]
    return "fra" if tag.startswith("fr") else tag


@dataclass
class CleanText:
    text: str  # words as spoken, mark-up removed
    foreign: list[list] = field(default_factory=list)  # [word index, language]
    unintelligible: bool = False  # `*` somewhere: the label misses words that were said
    truncated: int = 0  # truncated words dropped
    noise_tags: int = 0


def clean_transcript(raw: str) -> CleanText:
    """Words of a transcript line with the mark-up removed and tagged words recorded."""
    noise = len(_NOISE.findall(raw))
    text = _NOISE.sub(" ", raw)
    for marker in _SKIP_MARKERS:
        text = text.replace(marker, " ")
    text = text.replace("()", "() ")  # `coopera()bi`: drop the truncated start, keep `bi`
    words: list[str] = []
    foreign: dict[int, str] = {}
    unintelligible = False
    truncated = 0
    for token in text.split():
        tag = _TAG.match(token)
        if tag:
            name = tag.group(1)
            glued_word = ""
            if name.lower().startswith("fra") and name.lower() not in TAG_LANGUAGES:
                name, glued_word = name[:3], name[3:]  # ":frabi" = ":fra" + "bi" (missing space)
            if words and name:
                foreign[len(words) - 1] = tag_language(name)
            if glued_word:
                words.append(glued_word)
            continue
        if _HESITATION.match(token):
            continue
        if token.endswith("()"):
            truncated += 1
            continue
        if "*" in token:
            unintelligible = True
            token = token.replace("*", "")
            if not token:
                continue
        glued = _GLUED.match(token)
        lang = None
        if glued and not token.startswith("http"):
            token, lang = glued["word"], tag_language(glued["tag"])
        token = token.replace("(", "").replace(")", "").replace("_", " ").strip()
        for part in token.split():
            if part.strip("'-"):
                words.append(part)
        if lang and words:
            foreign[len(words) - 1] = lang
    words, foreign = _join_elisions(words, foreign)
    return CleanText(
        " ".join(words), [[i, lang] for i, lang in sorted(foreign.items())], unintelligible, truncated, noise
    )


_ELISION = re.compile(r"^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)'$", re.IGNORECASE)


def _join_elisions(words: list[str], foreign: dict[int, str]) -> tuple[list[str], dict[int, str]]:
    """`d' identité` (split by the tags) -> `d'identité`, as French writes it."""
    out: list[str] = []
    tags: dict[int, str] = {}
    i = 0
    while i < len(words):
        if _ELISION.match(words[i]) and i + 1 < len(words):
            lang = foreign.get(i) or foreign.get(i + 1)
            out.append(words[i] + words[i + 1])
            i += 2
        else:
            lang = foreign.get(i)
            out.append(words[i])
            i += 1
        if lang:
            tags[len(out) - 1] = lang
    return out, tags


@lru_cache(maxsize=16)
def _pack(language: str):
    from voice.packs import find_pack

    return find_pack(language)


def normaliser_id(language: str) -> str:
    pack = _pack(language)
    return f"{pack.code}@{pack.manifest.normaliser_version}" if pack else "basic@1"


def normalise(text: str, language: str) -> str:
    """The language pack's normaliser; the core's basic one when no pack serves the language."""
    pack = _pack(language)
    return pack.normalise(text) if pack is not None else textlib.basic_normalise(text)


def pack_code(language: str) -> str:
    """The pack's ISO 639-3 code for a language code or alias (unchanged when no pack claims it)."""
    pack = _pack(language)
    return pack.code if pack is not None else language


# ISO 639-3 -> the tag written back for normalisers (the spellings the Kallaama files use).
TAG_OUT = {"fra": "fra", "eng": "eng", "ara": "ar", "wol": "wolof", "fuc": "pulaar"}


def tagged(text: str, foreign: list[list]) -> str:
    """`text` with its tagged words marked again the Kallaama way (`mot :fra`)."""
    if not foreign:
        return text
    words = text.split()
    tags = {int(i): TAG_OUT.get(lang, lang) for i, lang in foreign}
    return " ".join(f"{w} :{tags[i]}" if i in tags else w for i, w in enumerate(words))
