"""Rebuild the pack's bundled data from the Kallaama files (build time only, never at run time).

    python tools/build_data.py /path/to/kallaama

writes voice_pack_fuc/data/{langid_train,langid_heldout,lexicon}.txt. Deterministic (fixed
seed). The held-out lines are chosen first and never enter the training file.
Then rebuild the profile with `voice packs profile fuc voice_pack_fuc/data/langid_train.txt
-o voice_pack_fuc/langid.json` and refresh the manifest with `voice packs verify fuc --update`.
"""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from pathlib import Path

from voice_pack_fuc.normalise import fix_orthography, normalise, strip_transcript_markup

SEED = 20241122
TRAIN_WEB, TRAIN_STM = 5000, 1500
HELDOUT_WEB, HELDOUT_STM = 250, 100
MIN_WORDS = 4
LEXICON_MIN_COUNT = 3
PACK = Path(__file__).resolve().parent.parent / "voice_pack_fuc" / "data"

# Lines of French or English (the web text quotes both now and then) are left out. Words that are
# also Pulaar ("on", "to", "in", "a", "e") are not in these lists.
FRENCH = {
    "le", "la", "les", "des", "est", "une", "un", "du", "pour", "dans", "et", "que", "qui", "sur",
    "avec", "par", "au", "aux", "ce", "cette", "il", "elle", "sont", "pas",
}  # fmt: skip
ENGLISH = {
    "the", "of", "and", "this", "is", "was", "for", "with", "from", "that", "are", "were", "have",
    "has", "by",
}  # fmt: skip
FOREIGN = FRENCH | ENGLISH
PULAAR_LETTERS = re.compile(r"^[abɓcdɗefghijklmnñŋoprstuwyƴ']+$")
_FOREIGN_WORD = re.compile(r"\S+\s*:(?:fra|wolof|eng|fr|far|fa|fea|ra|que)\b")
_MARKUP_LEFT = re.compile(r"[\[\]%*()_]")


def looks_foreign(line: str) -> bool:
    words = normalise(line).split()
    return sum(w in FOREIGN for w in words) >= 2


def enough_words(line: str) -> bool:
    """At least MIN_WORDS real words (not numbers, initials or symbols)."""
    return sum(len(w) > 1 and w.isalpha() for w in normalise(line).split()) >= MIN_WORDS


def web_lines(path: Path) -> list[str]:
    seen, out = set(), []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = fix_orthography(raw).strip(" \"'-,")
        line = re.sub(r"\s+", " ", line)
        if not enough_words(line) or looks_foreign(line) or line in seen:
            continue
        seen.add(line)
        out.append(line)
    return out


def stm_lines(folder: Path) -> list[str]:
    """Transcript text with French/Wolof-tagged words removed (tag and word), markup stripped."""
    seen, out = set(), []
    for stm in sorted(folder.glob("*.stm")):
        for raw in stm.read_text(encoding="utf-8").splitlines():
            if raw.startswith(";;") or "ignore_time_segment_in_scoring" in raw:
                continue
            text = raw.split(">", 1)[1] if ">" in raw else ""
            text = _FOREIGN_WORD.sub(" ", text)
            line = fix_orthography(strip_transcript_markup(text))
            line = _MARKUP_LEFT.sub(" ", line)
            line = re.sub(r"\s+", " ", line).strip()
            if not enough_words(line) or line in seen:
                continue
            seen.add(line)
            out.append(line)
    return out


def lexicon(lines: list[str]) -> list[str]:
    counts = Counter(w for line in lines for w in normalise(line).split())
    words = [
        w
        for w, c in counts.items()
        if c >= LEXICON_MIN_COUNT and len(w) > 1 and PULAAR_LETTERS.match(w) and w not in FOREIGN
    ]
    return sorted(words)


def main(kallaama: Path) -> None:
    rng = random.Random(SEED)
    web = web_lines(kallaama / "pulaar.txt")
    stm = stm_lines(kallaama / "raw-fuc")
    rng.shuffle(web)
    rng.shuffle(stm)
    heldout = web[:HELDOUT_WEB] + stm[:HELDOUT_STM]
    train = web[HELDOUT_WEB : HELDOUT_WEB + TRAIN_WEB] + stm[HELDOUT_STM : HELDOUT_STM + TRAIN_STM]
    assert not set(heldout) & set(train)
    PACK.mkdir(parents=True, exist_ok=True)
    (PACK / "langid_train.txt").write_text("\n".join(train) + "\n", encoding="utf-8")
    (PACK / "langid_heldout.txt").write_text("\n".join(heldout) + "\n", encoding="utf-8")
    (PACK / "lexicon.txt").write_text("\n".join(lexicon(web)) + "\n", encoding="utf-8")
    print(f"web {len(web)} stm {len(stm)} -> train {len(train)}, heldout {len(heldout)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/build_data.py /path/to/kallaama")
    main(Path(sys.argv[1]))
