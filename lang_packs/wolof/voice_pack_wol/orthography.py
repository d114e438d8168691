"""Wolof orthography: Kallaama STM mark-up removal and French-style spellings mapped to CLAD.

Transcripts (Kallaama STM) mark a French word with a following `:fra` token (also `:en`, `:ar`
and typos such as `:fr`, `:frau`), noise/events with `[r] [b] [mic] ...`, hesitations with
`%e %hum`, unintelligible stretches with `*` and truncated words with `()` (`xa()`).

Callers and ASR models often write Wolof the French way (`wakh` for `wax`, `nagnou` for
`nañu`); the official CLAD orthography is what we compare in. The rewrite only touches words
that cannot already be CLAD and that are not French (tagged, or known French/proper nouns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

# A language tag token (`:fra`, typos `:fr`, `:frau`) or one glued to its word (`pour:fra`).
_TAG = re.compile(r"^:[^\W\d_]+$")
_GLUED_TAG = re.compile(r"^(?P<word>.+?):(?P<tag>fra|fr|en|ar)$")
_NOISE = re.compile(r"\[[^\]\s]*\]")  # [r] [b] [mic] [rire_en_fond] [-conv] ...
_HESITATION = re.compile(r"^%")  # %e %hum %hm (and typos glued to them)
_TRUNCATION = "()"

# Letters that only CLAD spelling uses: a word holding one is already CLAD, leave it alone.
CLAD_ONLY = set("ëñŋxàó")
# French-style digraph -> CLAD letter, in the order they apply (tch before ch).
_FRENCH_STYLE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("tch"), "c"),
    (re.compile("ch"), "c"),
    (re.compile("kh"), "x"),
    (re.compile("dj"), "j"),
    (re.compile("gn"), "ñ"),
    (re.compile("^ny"), "ñ"),  # word-initial only: CLAD has n+y inside words (dunyaa)
    (re.compile("eu"), "ë"),
    (re.compile("^ou(?=[aeiéoë])"), "w"),  # ouolof -> wolof
    (re.compile("ou"), "u"),
)
FRENCH_STYLE_HINT = re.compile("tch|ch|kh|dj|gn|^ny|eu|ou")


@lru_cache(maxsize=1)
def protected_words() -> frozenset[str]:
    """French words and proper nouns (from Kallaama) whose spelling must not be rewritten."""
    data = resources.files("voice_pack_wol") / "data" / "protected_words.txt"
    words = data.read_text(encoding="utf-8").split()
    return frozenset(words) | EXTRA_PROTECTED


# Demo-operator names and everyday French words callers use without a tag.
EXTRA_PROTECTED = frozenset(
    {"ziguinchor", "bonjour", "bonsoir", "merci", "pourquoi", "couper", "coupé", "coupure", "jour", "journée"}
)


def to_clad(word: str, protected: frozenset[str] | None = None) -> str:
    """One lower-case word in French-style spelling -> CLAD; CLAD, French and names unchanged."""
    if not FRENCH_STYLE_HINT.search(word) or CLAD_ONLY.intersection(word):
        return word
    if word in (protected_words() if protected is None else protected):
        return word
    for pattern, letter in _FRENCH_STYLE:
        word = pattern.sub(letter, word)
    return word


@dataclass(frozen=True)
class Token:
    text: str
    foreign: bool  # tagged :fra/:en/:ar in the transcript


def stm_tokens(text: str) -> list[Token]:
    """Words of an STM transcript line with mark-up removed and foreign words flagged."""
    text = _NOISE.sub(" ", text).replace("_", " ")
    # `coopera()bi`: the truncated start is dropped, the word glued after it kept.
    text = text.replace(_TRUNCATION, _TRUNCATION + " ")
    tokens: list[Token] = []
    for raw in text.split():
        if _TAG.match(raw):
            if tokens:
                tokens[-1] = Token(tokens[-1].text, True)
            continue
        if _HESITATION.match(raw) or raw.endswith(_TRUNCATION):
            continue
        glued = _GLUED_TAG.match(raw)
        word, foreign = (glued["word"], True) if glued else (raw, False)
        word = word.replace("*", "").replace("(", "").replace(")", "")
        if word.strip("'-"):
            tokens.append(Token(word, foreign))
    return tokens


def stm_text(line: str) -> str | None:
    """The transcript field of an STM line; None for comments and excluded regions."""
    line = line.strip()
    if not line or line.startswith(";;"):
        return None
    parts = line.split(None, 5)
    if len(parts) < 5 or parts[2] == "excluded_region":
        return None
    rest = parts[5] if len(parts) == 6 else ""
    if rest.startswith("<"):  # the <o,f1,female> label column
        rest = rest.split(">", 1)[1] if ">" in rest else ""
    if "ignore_time_segment_in_scoring" in rest:
        return None
    return rest.strip()
