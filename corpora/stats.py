"""Manifest statistics: hours, speakers, gender balance, sources, licences, code-switching."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence

from corpora.manifest import SPLITS, Entry
from corpora.split import speaker_overlap

GENDER_KEYS = ("female", "male", "unknown")
DURATION_BUCKETS = (1, 2, 5, 10, 20, 30)


def _block(entries: Sequence[Entry]) -> dict:
    seconds = sum(e.duration for e in entries)
    speakers = {e.speaker for e in entries if e.speaker != "unknown"}
    gender_seconds: dict[str, float] = defaultdict(float)
    gender_speakers: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        g = e.gender or "unknown"
        gender_seconds[g] += e.duration
        if e.speaker != "unknown":
            gender_speakers[g].add(e.speaker)
    return {
        "utterances": len(entries),
        "seconds": round(seconds, 3),
        "hours": round(seconds / 3600, 4),
        "speakers": len(speakers),
        "unknown_speaker_utterances": sum(1 for e in entries if e.speaker == "unknown"),
        "gender": {
            g: {"seconds": round(gender_seconds.get(g, 0.0), 3), "speakers": len(gender_speakers.get(g, ()))}
            for g in GENDER_KEYS
        },
    }


def manifest_stats(entries: Sequence[Entry]) -> dict:
    """Everything the data card shows, as numbers (seconds are exact sums of the manifest)."""
    by_split = {s: [e for e in entries if e.split == s] for s in SPLITS}
    other = [e for e in entries if e.split not in SPLITS]
    by_source: dict[str, list[Entry]] = defaultdict(list)
    by_language: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_source[e.source].append(e)
        by_language[e.language].append(e)
    licences: dict[str, list[str]] = defaultdict(list)
    for name, es in sorted(by_source.items()):
        for lic in sorted({e.licence for e in es}):
            licences[lic].append(name)
    words = tagged = 0
    tagged_by: Counter[str] = Counter()
    for e in entries:
        words += len(e.text.split())
        tagged += len(e.foreign)
        tagged_by.update(lang for _, lang in e.foreign)
    durations = sorted(e.duration for e in entries)
    histogram = Counter()
    for d in durations:
        bucket = next((f"<{b} s" for b in DURATION_BUCKETS if d < b), f">={DURATION_BUCKETS[-1]} s")
        histogram[bucket] += 1
    texts = {s: {e.text_norm for e in es} for s, es in by_split.items()}
    return {
        "total": _block(entries),
        "splits": {s: _block(es) for s, es in by_split.items()} | ({"none": _block(other)} if other else {}),
        "sources": {
            name: _block(es) | {"licences": sorted({e.licence for e in es})}
            for name, es in sorted(by_source.items())
        },
        "languages": {lang: _block(es) for lang, es in sorted(by_language.items())},
        "licences": dict(sorted(licences.items())),
        "code_switching": {
            "words": words,
            "tagged_words": tagged,
            "tagged_share": round(tagged / words, 4) if words else 0.0,
            "by_language": dict(tagged_by.most_common()),
            "utterances_with_tags": sum(1 for e in entries if e.foreign),
        },
        "duration": {
            "min": round(durations[0], 3) if durations else 0.0,
            "median": round(statistics.median(durations), 3) if durations else 0.0,
            "mean": round(statistics.fmean(durations), 3) if durations else 0.0,
            "max": round(durations[-1], 3) if durations else 0.0,
            "histogram": {
                b: histogram.get(b, 0)
                for b in [*(f"<{b} s" for b in DURATION_BUCKETS), f">={DURATION_BUCKETS[-1]} s"]
            },
        },
        "checks": {
            "speaker_disjoint": not speaker_overlap(entries),
            "speakers_in_several_splits": len(speaker_overlap(entries)),
            "test_texts_also_in_train": len(texts["test"] & texts["train"]),
            "dev_texts_also_in_train": len(texts["dev"] & texts["train"]),
        },
    }


def hms(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
