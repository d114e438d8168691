"""Character n-gram language identification over the installed packs.

Each pack ships `langid.json`: counts of its most frequent character 1- to 4-grams, built from
its own texts. Scoring is naive Bayes with add-one smoothing per n-gram order, which tells
closely related text apart well from a few thousand lines per language.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from voice.packs.text import basic_normalise

ORDERS = (1, 2, 3, 4)
PROFILE_VERSION = 1


def grams(text: str, orders: tuple[int, ...] = ORDERS) -> Iterable[str]:
    for word in basic_normalise(text).split():
        if any(c.isdigit() for c in word):
            continue  # numbers are shared by every language and say nothing about it
        padded = f"_{word}_"
        for n in orders:
            for i in range(len(padded) - n + 1):
                yield padded[i : i + n]


def build_profile(code: str, texts: Iterable[str], top_k: int = 6000) -> dict:
    counts: Counter[str] = Counter()
    lines = 0
    for line in texts:
        if line.strip():
            counts.update(grams(line))
            lines += 1
    by_order: dict[int, Counter[str]] = {n: Counter() for n in ORDERS}
    for gram, c in counts.items():
        by_order[len(gram)][gram] = c
    kept = {n: dict(by_order[n].most_common(top_k)) for n in ORDERS}
    return {
        "version": PROFILE_VERSION,
        "code": code,
        "lines": lines,
        "totals": {str(n): sum(by_order[n].values()) for n in ORDERS},
        "grams": {str(n): kept[n] for n in ORDERS},
    }


def save_profile(profile: dict, path: Path) -> Path:
    path.write_text(json.dumps(profile, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


@dataclass
class _Model:
    logp: dict[str, float]
    unseen: dict[int, float]


class LanguageIdentifier:
    def __init__(self, profiles: dict[str, dict]):
        if not profiles:
            raise ValueError("language identification needs at least one profile")
        self._models = {code: self._model(p) for code, p in profiles.items()}

    @staticmethod
    def _model(profile: dict) -> _Model:
        logp: dict[str, float] = {}
        unseen: dict[int, float] = {}
        for order, table in profile["grams"].items():
            n = int(order)
            denom = profile["totals"][order] + len(table) + 1
            unseen[n] = math.log(1 / denom)
            for gram, c in table.items():
                logp[gram] = math.log((c + 1) / denom)
        return _Model(logp, unseen)

    @classmethod
    def from_packs(cls, packs: Iterable) -> LanguageIdentifier:
        profiles = {}
        for pack in packs:
            path = pack.langid_profile_path
            if path.exists():
                profiles[pack.code] = json.loads(path.read_text(encoding="utf-8"))
        return cls(profiles)

    @classmethod
    def installed(cls) -> LanguageIdentifier:
        from voice.packs.registry import installed_packs

        return cls.from_packs(installed_packs().values())

    @property
    def languages(self) -> list[str]:
        return list(self._models)

    def scores(self, text: str) -> dict[str, float]:
        """Probability per language (softmax over log-likelihoods)."""
        observed = list(grams(text))
        if not observed:
            return {code: 1 / len(self._models) for code in self._models}
        loglik = {
            code: sum(m.logp.get(g, m.unseen[len(g)]) for g in observed) for code, m in self._models.items()
        }
        top = max(loglik.values())
        exp = {c: math.exp((v - top) / max(1, len(observed)) * 8) for c, v in loglik.items()}
        total = sum(exp.values())
        return {c: v / total for c, v in sorted(exp.items(), key=lambda kv: -kv[1])}

    def identify(self, text: str) -> tuple[str, float]:
        scores = self.scores(text)
        code = next(iter(scores))
        return code, scores[code]
