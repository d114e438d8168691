"""Anonymise what callers said before it becomes training data.

Masked (placeholders [PHONE] [NAME] [AMOUNT] [REF] [TICKET]):
- phone numbers in any common writing (+221 77 123 45 67, 00221771234567, 77-123-45-67,
  771234567, +220 700 1234, inside USSD codes), and any run of 7+ digits (ID card numbers);
- the operator's known numbers and names (callers, senders, customer records) wherever they occur;
- person names: a list of given names and family names common in Senegal, The Gambia, Guinea
  and Mauritania (with `extra_names`), names after an introduction cue ("my name is",
  "je m'appelle", "sama tur", "mi innitee", ...), and capitalised words inside a sentence that
  are in neither the pack's vocabulary nor its content (full names: the whole run);
- money and data amounts tied to a person (balances, transfers): any amount with a unit that is
  not one of the operator's public figures (prices, fees, codes in the pack's content);
- mobile-money references (MM-2026-0042) and ticket numbers (T004211).
Then `pseudonymise` puts plausible stand-ins back (fixed pools, never the originals), so the
utterances still read naturally; a reference becomes one the demo account owns.

Residual risk, for the native-speaker review: names and numbers spelled out in words.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

GIVEN_NAMES = [
    "Awa", "Fatou", "Fatoumata", "Aminata", "Mariama", "Mariame", "Khady", "Khadija", "Coumba", "Ndeye",
    "Astou", "Aissatou", "Aïssatou", "Adama", "Binta", "Dieynaba", "Rokhaya", "Sokhna", "Seynabou",
    "Maimouna", "Oumou", "Kadiatou", "Hawa", "Ramatoulaye", "Nafissatou", "Penda", "Yacine", "Mareme",
    "Marème", "Bineta", "Ngone", "Ngoné", "Anta", "Daba", "Fama", "Mbayang", "Soda", "Thioro", "Dior",
    "Arame", "Oulimata", "Salimata", "Mamadou", "Moussa", "Ibrahima", "Ousmane", "Abdoulaye", "Cheikh",
    "Modou", "Moustapha", "Aliou", "Alioune", "Oumar", "Omar", "Amadou", "Babacar", "Lamine", "Malick",
    "Serigne", "Assane", "Souleymane", "Idrissa", "Samba", "Demba", "Boubacar", "Mouhamed", "Mohamed",
    "Mouhamadou", "Mamour", "Saliou", "Youssou", "Thierno", "Elhadji", "Ebrima", "Lamin", "Alagie", "Musa",
    "Isatou", "Fatoumatta", "Haddy", "Kaddy", "Jainaba", "Sainabou", "Ablaye", "Abdou", "Ndongo", "Pathe",
    "Pathé", "Birame", "Saliou", "Khadim", "Bamba", "Habib", "Ismaila", "Mountaga", "Yero", "Hamady",
    "Hamidou", "Djibril", "Sidy", "Seydou", "Racine", "Ousseynou", "Matar", "Mbaye", "Gora", "Omar",
    "Tidiane",
]  # fmt: skip
FAMILY_NAMES = [
    "Ndiaye", "Diop", "Fall", "Sow", "Ba", "Bâ", "Diallo", "Faye", "Sy", "Gueye", "Guèye", "Ndour", "Mbaye",
    "Seck", "Niang", "Cisse", "Cissé", "Kane", "Toure", "Touré", "Sarr", "Thiam", "Dieng", "Camara",
    "Jallow", "Jammeh", "Ceesay", "Bah", "Barry", "Sall", "Wade", "Kouyate", "Kouyaté", "Diouf", "Ndao",
    "Mbengue", "Lo", "Ly", "Tall", "Dia", "Wane", "Diagne", "Samb", "Sene", "Sène", "Badji", "Mendy",
    "Sagna", "Coly", "Diatta", "Diaw", "Touray", "Njie", "Sanneh", "Darboe", "Drammeh", "Sonko", "Sidibe",
    "Sidibé", "Balde", "Baldé", "Kamara", "Keita", "Konate", "Konaté", "Traore", "Traoré", "Sissoko",
    "Ndoye", "Ndir", "Gaye", "Kebe", "Kébé", "Niasse", "Mboup", "Dramé", "Drame", "Ndong", "Thiaw",
    "Senghor", "Sakho", "Diakhate",
]  # fmt: skip
# Also ordinary words in Wolof, Pulaar, French or English: names only with context.
AMBIGUOUS = {"ba", "bâ", "sy", "fall", "lo", "ly", "dia", "tall", "sow", "wade", "sall", "samba", "bamba"}
# Introductions: the next word is a name whatever its case (transcripts are often lower case).
STRONG_CUES = [
    "my name is", "je m'appelle", "mon nom est", "mon nom c'est", "sama tur", "sama turu", "maa ngi tudd",
    "maa tudd", "ma tudd", "tudd naa", "mi innitee", "innde am ko", "innde am",
]  # fmt: skip
# The next word is a name when it is capitalised (and not a known word).
CUES = [
    "this is", "i'm", "i am", "je suis", "c'est", "ko miin", "my brother", "my sister", "my wife",
    "my husband", "mon frère", "ma sœur", "ma femme", "mon mari", "sama rakk", "sama mag", "sama jabar",
    "sama jëkkër", "mister", "mr", "mrs", "madame", "monsieur", "mme", "m.",
]  # fmt: skip
PLACEHOLDERS = ("[PHONE]", "[NAME]", "[AMOUNT]", "[REF]", "[TICKET]")

_REF = re.compile(r"(?<![\w])m\W{0,2}m\W{0,2}(\d{4})\W{0,2}(\d{1,4})(?!\d)", re.IGNORECASE)
_TICKET = re.compile(r"(?<![\w])T\s?\d{5,8}(?!\d)")
_UNIT = (
    r"(?:f\s?cfa|fcfa|cfa|francs?(?:\s+cfa)?|f(?![a-z])|dërëm|derem|dalasis?|gmd|euros?|€|\$|dollars?|"
    r"mb|gb|mo|go|mega|méga|giga|megas?|gigas?)"
)
_AMOUNT = re.compile(rf"(?<![\w*#])(\d{{1,3}}(?:[ .\u202f\u00a0]\d{{3}})+|\d+)(?:[.,]\d+)?\s*{_UNIT}", re.I)
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d(?:[ .\-\u00a0]?\d){6,14}(?![\w])")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*", re.UNICODE)


def _cue_pattern(cues: list[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(c) for c in sorted({_fold(c) for c in cues}, key=len, reverse=True))
    return re.compile(r"(?:^|(?<=\W))(?:" + alternatives + r")[\s,:]+$", re.I)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _fold(word: str) -> str:
    return word.casefold().replace("’", "'")


@dataclass
class Anonymiser:
    public_numbers: set[str] = field(default_factory=set)  # digits of the operator's public figures
    vocabulary: set[str] = field(default_factory=set)  # casefolded words that are not names
    known_names: set[str] = field(default_factory=set)
    known_phones: set[str] = field(default_factory=set)  # digits
    extra_names: Iterable[str] = ()
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        names = {_fold(n) for n in [*GIVEN_NAMES, *FAMILY_NAMES, *self.extra_names]}
        for full in self.known_names:
            names.update(_fold(w) for w in _WORD.findall(full))
        self.names = names
        self.vocabulary = {w for w in self.vocabulary if w not in names or w in AMBIGUOUS}
        self.known_phones = {d for d in self.known_phones if len(d) >= 7}
        self._strong = _cue_pattern(STRONG_CUES)
        self._cue = _cue_pattern(STRONG_CUES + CUES)

    def add_known(self, phones: Iterable[str], names: Iterable[str]) -> None:
        """Numbers and names the operator's records know (callers, senders, customers)."""
        self.known_phones |= {digits(p) for p in phones if len(digits(p)) >= 7}
        for full in names:
            self.known_names.add(full)
            self.names.update(_fold(w) for w in _WORD.findall(full))
        self.vocabulary = {w for w in self.vocabulary if w not in self.names or w in AMBIGUOUS}

    # -- public ---------------------------------------------------------------------------------
    def mask(self, text: str) -> str:
        text = _REF.sub(self._count("[REF]"), text)
        text = _TICKET.sub(self._count("[TICKET]"), text)
        text = _AMOUNT.sub(self._amount, text)
        text = _PHONE.sub(self._count("[PHONE]"), text)
        for phone in self.known_phones:  # written with odd separators
            pattern = r"\W?".join(phone[-9:])
            text, n = re.subn(pattern, "[PHONE]", text)
            self.counts["[PHONE]"] += n
        return self._names(text)

    def residue(self, original_names: Iterable[str], original_phones: Iterable[str], text: str) -> list[str]:
        """What of the given names and numbers still appears in `text` (for checks)."""
        left = [n for n in original_names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", text, re.I)]
        flat = digits(text)
        left += [p for p in original_phones if len(digits(p)) >= 7 and digits(p)[-7:] in flat]
        return left

    # -- pieces -----------------------------------------------------------------------------------
    def _count(self, placeholder: str):
        def sub(_m: re.Match) -> str:
            self.counts[placeholder] += 1
            return placeholder

        return sub

    def _amount(self, m: re.Match) -> str:
        number = digits(m.group(1))
        if number in self.public_numbers:
            return m.group(0)
        self.counts["[AMOUNT]"] += 1
        return "[AMOUNT]"

    def _is_name(self, word: str, start: int, text: str, sentence_start: bool) -> bool:
        w = _fold(word)
        context = text[:start].casefold()[-40:]
        cued = bool(self._cue.search(context))
        if w in self.names:
            if w not in AMBIGUOUS:
                return True
            return word[:1].isupper() and (not sentence_start or cued)
        if self._strong.search(context) and w not in self.vocabulary:
            return True
        if cued and word[:1].isupper() and w not in self.vocabulary:
            return True
        # a capitalised word mid-sentence that the language and the operator's content do not know
        return (
            word[:1].isupper()
            and not word.isupper()
            and not sentence_start
            and w not in self.vocabulary
            and len(w) > 1
        )

    def _names(self, text: str) -> str:
        out, last = [], 0
        words = list(_WORD.finditer(text))
        masked = [False] * len(words)
        for i, m in enumerate(words):
            before = text[: m.start()].rstrip()
            sentence_start = not before or before[-1] in '.!?…:;"«»\n'
            if self._is_name(m.group(0), m.start(), text, sentence_start):
                masked[i] = True
        # full names: a capitalised neighbour of a masked word is part of the name
        changed = True
        while changed:
            changed = False
            for i, m in enumerate(words):
                if masked[i] or not m.group(0)[:1].isupper() or m.group(0).isupper():
                    continue
                for j in (i - 1, i + 1):
                    if 0 <= j < len(words) and masked[j]:
                        gap = text[min(m.end(), words[j].end()) : max(m.start(), words[j].start())]
                        if gap.strip() == "" and _fold(m.group(0)) not in self.vocabulary:
                            masked[i] = changed = True
        i = 0
        while i < len(words):
            if not masked[i]:
                i += 1
                continue
            j = i
            while (
                j + 1 < len(words)
                and masked[j + 1]
                and text[words[j].end() : words[j + 1].start()].strip() == ""
            ):
                j += 1
            out.append(text[last : words[i].start()])
            out.append("[NAME]")
            self.counts["[NAME]"] += 1
            last = words[j].end()
            i = j + 1
        out.append(text[last:])
        return "".join(out)


# -- stand-ins ------------------------------------------------------------------------------------
SURROGATE_NAMES = ["Khady Sène", "Pape Ndour", "Aïda Gaye", "Modou Kébé", "Ndèye Sakho", "Yoro Baldé"]
SURROGATE_PHONES = ["+221 70 000 00 11", "+221 70 000 00 12", "+221 70 000 00 13", "70 000 00 14"]
SURROGATE_AMOUNTS = ["2500 FCFA", "7000 FCFA", "12000 FCFA", "800 FCFA", "150 MB"]


def pseudonymise(text: str, rng: random.Random, reference: str = "MM-2026-0044") -> str:
    """Fill the placeholders with stand-ins from fixed pools (never an original value)."""
    pools = {
        "[NAME]": SURROGATE_NAMES,
        "[PHONE]": SURROGATE_PHONES,
        "[AMOUNT]": SURROGATE_AMOUNTS,
        "[REF]": [reference],
        "[TICKET]": ["T000100", "T000200"],
    }
    for placeholder, pool in pools.items():
        while placeholder in text:
            text = text.replace(placeholder, rng.choice(pool), 1)
    return text


def vocabulary_from(texts: Iterable[str]) -> set[str]:
    return {_fold(w) for t in texts for w in _WORD.findall(t)}


def numbers_from(texts: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for t in texts:
        for m in re.finditer(r"\d{1,3}(?:[ .\u202f\u00a0]\d{3})+|\d+", t):
            out.add(digits(m.group(0)))
    return out
