"""Rebuild the pack's Kallaama-derived data files (run by a maintainer, never at run/test time).

    python scripts/build_data.py /path/to/kallaama

writes voice_pack_wol/data/{lexicon.txt, protected_words.txt, langid_train.txt,
langid_heldout.txt}. Kallaama (CC-BY 4.0): Gauthier, Ndiaye, Guissé, RAIL 2024.
Held-out recordings (HELDOUT) never feed the language-ID profile.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

PACK = Path(__file__).resolve().parents[1] / "voice_pack_wol"
sys.path.insert(0, str(PACK.parent))

from voice_pack_wol.orthography import CLAD_ONLY, FRENCH_STYLE_HINT, stm_text, stm_tokens  # noqa: E402

# Recordings kept out of the profile: spread over the corpus (sessions 31x, 35x, 36x, 41x, 42x...).
HELDOUT = (
    "wol_31610",
    "wol_35110",
    "wol_36310",
    "wol_41910",
    "wol_42311",
)
# Phones that only French words have in the Kallaama lexicon's X-SAMPA (uvular R, nasal vowels,
# front rounded vowels, post-alveolar fricatives).
FRENCH_PHONES = {"R", "~", "Z", "S", "2", "9", "H", "z", "A", "A~"}
TRAIN_MIN_WORDS, HELDOUT_MIN_WORDS = 2, 4
# Every 2nd training line is enough: held-out accuracy against Pulaar and French profiles stays at
# 100% down to every 4th line, and the wheel stays small.
TRAIN_EVERY = 2
# Tagged or capitalised in Kallaama, but French-style spellings of Wolof words (bou = bu, keur =
# kër) or mark-up debris: these must stay open to the CLAD rewrite.
NOT_PROTECTED = {
    "bou",
    "beu",
    "fou",
    "loul",
    "lour",
    "quou",
    "waqou",
    "koule",
    "keur",
    "diou",
    "diuou",
    "ch",
    "dj",
    "cnch",
    "ch4",
    "heurs",
    "meus",
    "poura",
    "sgné",
    "bdou",
}


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def build_lexicon(kallaama: Path) -> tuple[list[str], set[str]]:
    words, french = set(), set()
    for line in (kallaama / "wol_lexicon.xsampa.txt").read_text(encoding="utf-8").splitlines():
        word, _, phones = line.partition("\t")
        word = nfc(word.strip())
        if not word:
            continue
        words.add(word)
        if FRENCH_PHONES.intersection(phones.split()) or "~" in phones:
            french.add(word.casefold())
    return sorted(words), french


def digraph_word(word: str) -> bool:
    return bool(FRENCH_STYLE_HINT.search(word)) and not CLAD_ONLY.intersection(word)


def stm_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        text = stm_text(line)
        if text:
            out.append(nfc(text))
    return out


def protected_from_stm(files: list[Path]) -> set[str]:
    """Foreign-tagged words and capitalised names (Louga, Cheikh) that hold French digraphs."""
    found = set()
    for f in files:
        for text in stm_lines(f):
            for tok in stm_tokens(text):
                for part in re.split(r"[^\w']+", tok.text):
                    low = part.casefold()
                    if (tok.foreign or part[:1].isupper()) and digraph_word(low):
                        found.add(low)
    return found


def langid_line(text: str) -> str:
    from voice_pack_wol.text import normalise

    words = [w for w in normalise(text, drop_foreign=True).split() if not any(c.isdigit() for c in w)]
    return " ".join(words)


def main(kallaama: Path) -> None:
    data = PACK / "data"
    lexicon, lexicon_french = build_lexicon(kallaama)
    (data / "lexicon.txt").write_text("\n".join(lexicon) + "\n", encoding="utf-8")

    files = sorted((kallaama / "raw-wol").glob("*.stm"))
    protected = protected_from_stm(files) | {w for w in lexicon_french if digraph_word(w)}
    protected -= NOT_PROTECTED
    (data / "protected_words.txt").write_text("\n".join(sorted(protected)) + "\n", encoding="utf-8")

    train, heldout, seen = [], [], set()
    for f in files:
        is_heldout = f.stem in HELDOUT
        for text in stm_lines(f):
            line = langid_line(text)
            n = len(line.split())
            if line in seen or n < (HELDOUT_MIN_WORDS if is_heldout else TRAIN_MIN_WORDS):
                continue
            seen.add(line)
            (heldout if is_heldout else train).append(line)
    train = train[::TRAIN_EVERY]
    (data / "langid_train.txt").write_text("\n".join(train) + "\n", encoding="utf-8")
    (data / "langid_heldout.txt").write_text("\n".join(heldout) + "\n", encoding="utf-8")
    print(f"lexicon {len(lexicon)}, protected {len(protected)}, train {len(train)}, heldout {len(heldout)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
