"""Speaker-disjoint train/dev/test splits.

Speakers (or whole recordings, `group_by="recording"`) are the unit: every utterance of a group
lands in the same split, so no test voice is ever heard in training. Groups are ordered by a
seeded hash (the same corpus and seed give the same splits) and dealt to test, then dev, until
each reaches its share of the *duration*; the rest is train. With three or more groups and
non-zero shares, dev and test are never empty. Utterances of unknown speakers are grouped by
recording.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

from corpora.manifest import SPLITS, Entry

MODES = ("auto", "speaker", "keep", "train", "dev", "test")


def group_key(entry: Entry, recording: str, group_by: str = "speaker") -> str:
    if group_by == "recording" or not entry.speaker or entry.speaker == "unknown":
        return f"rec:{recording}"
    return f"spk:{entry.speaker}"


def _rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def assign_splits(
    entries: Sequence[Entry],
    recordings: Sequence[str],
    mode: str = "auto",
    dev: float = 0.1,
    test: float = 0.1,
    seed: int = 0,
    group_by: str = "speaker",
) -> dict:
    """Set `entry.split` in place; returns what was done (for the ingest report).

    auto: keep the source's splits when every utterance has one (FLEURS, ALFFA: benchmark test
    sets stay comparable), otherwise split by speaker; speaker: always re-split; keep: source
    splits, train where none; train/dev/test: everything into one split.
    """
    if mode not in MODES:
        raise ValueError(f"split mode {mode!r}: choose one of {', '.join(MODES)}")
    if mode in SPLITS:
        for e in entries:
            e.split = mode
        return {"mode": mode}
    has_source = [e.split in SPLITS for e in entries]
    if mode == "keep" or (mode == "auto" and entries and all(has_source)):
        for e in entries:
            e.split = e.split if e.split in SPLITS else "train"
        return {"mode": "keep"}
    groups: dict[str, list[Entry]] = defaultdict(list)
    for e, rec in zip(entries, recordings, strict=True):
        groups[group_key(e, rec, group_by)].append(e)
    fixed: dict[str, str] = {}
    if mode == "auto":  # a group with source splits keeps the one holding most of its audio
        for key, members in groups.items():
            durations: dict[str, float] = defaultdict(float)
            for e in members:
                if e.split in SPLITS:
                    durations[e.split] += e.duration
            if durations:
                fixed[key] = max(durations, key=durations.get)
    total = sum(e.duration for e in entries)
    done = {s: sum(e.duration for k in fixed for e in groups[k] if fixed[k] == s) for s in SPLITS}
    target = {"test": test * total, "dev": dev * total}
    for key in sorted((k for k in groups if k not in fixed), key=lambda k: _rank(k, seed)):
        dur = sum(e.duration for e in groups[key])
        if test > 0 and done["test"] < target["test"]:
            split = "test"
        elif dev > 0 and done["dev"] < target["dev"]:
            split = "dev"
        else:
            split = "train"
        fixed[key] = split
        done[split] += dur
    for key, members in groups.items():
        for e in members:
            e.split = fixed[key]
    return {
        "mode": "speaker",
        "group_by": group_by,
        "groups": len(groups),
        "seed": seed,
        "dev": dev,
        "test": test,
    }


def speaker_overlap(entries: Sequence[Entry]) -> dict[str, list[str]]:
    """Speakers found in more than one split (empty when the splits are speaker-disjoint)."""
    where: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        if e.speaker and e.speaker != "unknown":
            where[e.speaker].add(e.split or "?")
    return {spk: sorted(s) for spk, s in sorted(where.items()) if len(s) > 1}
