"""A small TF-IDF index over word and character n-grams, for intent matching and KB retrieval.

Pack corpora are small (hundreds of lines), so an exact sparse cosine against every document
costs well under a millisecond and gives a confidence in [0, 1] the router can threshold.
Character n-grams tolerate the spelling variation of Wolof and Pulaar that normalisers miss.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse


def features(text: str) -> Counter[str]:
    words = text.split()
    feats: Counter[str] = Counter(f"w:{w}" for w in words)
    feats.update(f"b:{a}_{b}" for a, b in zip(words, words[1:], strict=False))
    for w in words:
        padded = f" {w} "
        feats.update(f"c:{padded[i : i + 3]}" for i in range(len(padded) - 2))
    return feats


@dataclass(frozen=True)
class Hit:
    index: int
    score: float


class TfidfIndex:
    def __init__(self, docs: Sequence[str], normalise: Callable[[str], str]):
        self._normalise = normalise
        counts = [features(normalise(d)) for d in docs]
        df: Counter[str] = Counter()
        for c in counts:
            df.update(c.keys())
        self._vocab = {f: i for i, f in enumerate(df)}
        n = len(docs)
        self._idf = np.array([math.log((1 + n) / (1 + df[f])) + 1 for f in self._vocab], dtype=np.float32)
        self._matrix = self._vectors(counts)
        self.size = n

    def _vectors(self, counts: list[Counter[str]]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for r, c in enumerate(counts):
            for f, v in c.items():
                j = self._vocab.get(f)
                if j is not None:
                    rows.append(r)
                    cols.append(j)
                    vals.append((1 + math.log(v)) * self._idf[j])
        m = sparse.csr_matrix((vals, (rows, cols)), shape=(len(counts), len(self._vocab)), dtype=np.float32)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        return sparse.diags(1 / norms) @ m

    def search(self, query: str, k: int = 5) -> list[Hit]:
        if self.size == 0:
            return []
        q = self._vectors([features(self._normalise(query))])
        scores = (self._matrix @ q.T).toarray().ravel()
        top = np.argsort(-scores)[:k]
        return [Hit(int(i), float(scores[i])) for i in top if scores[i] > 0]
