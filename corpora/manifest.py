"""The one manifest format every recipe writes: JSON Lines, one utterance per line.

    {"id": "kallaama-wol_11410-locuteur_1-000123", "audio": "/data/kallaama/wol_11410.wav",
     "offset": 12.34, "duration": 5.6, "text": "damaa am sama tool ...", "text_norm": "...",
     "speaker": "wol_11410/locuteur_1", "gender": "male", "language": "wol", "source": "kallaama",
     "licence": "CC-BY-4.0", "split": "train", "foreign": [[7, "fra"]], "normaliser": "wol@1"}

- `audio` is absolute, or relative to the manifest's directory; `offset`/`duration` in seconds
  select the utterance inside it (offset 0 and the file's duration for one-utterance files).
- `text` is what was said with the transcript mark-up removed (noise tags, hesitations,
  truncations) and code-switched words kept as spoken; `foreign` lists `[word index in
  text.split(), language]` for words the transcript tagged (Kallaama `:fra`).
- `text_norm` is the language pack's `normalise()` of the tagged transcript; `normaliser` says
  which pack and normaliser version made it (`voice asr eval` re-normalises when it changed).
- `gender` is "male", "female" or null; `split` is "train", "dev" or "test".
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from voice.errors import BadInputError

SPLITS = ("train", "dev", "test")
GENDERS = ("male", "female")


@dataclass
class Entry:
    id: str
    audio: str
    offset: float
    duration: float
    text: str
    text_norm: str
    speaker: str
    gender: str | None
    language: str
    source: str
    licence: str
    split: str | None = None
    foreign: list[list] = field(default_factory=list)
    normaliser: str | None = None

    def as_json(self) -> dict:
        d = asdict(self)
        d["offset"] = round(float(self.offset), 3)
        d["duration"] = round(float(self.duration), 3)
        return d

    @classmethod
    def from_json(cls, d: dict) -> Entry:
        known = {f for f in cls.__dataclass_fields__}
        missing = {"id", "audio", "duration", "text", "speaker", "language"} - d.keys()
        if missing:
            raise BadInputError(f"manifest entry {d.get('id', '?')!r} lacks {', '.join(sorted(missing))}")
        d = {k: v for k, v in d.items() if k in known}
        d.setdefault("offset", 0.0)
        d.setdefault("text_norm", d["text"])
        d.setdefault("gender", None)
        d.setdefault("source", "unknown")
        d.setdefault("licence", "unknown")
        return cls(**d)

    def audio_path(self, root: Path | None = None) -> Path:
        p = Path(self.audio)
        return p if p.is_absolute() or root is None else root / p

    def tagged_text(self) -> str:
        """The text with its code-switch tags back in Kallaama form (`mot :fra`), for normalisers."""
        from corpora.text import tagged

        return tagged(self.text, self.foreign)


def write_manifest(path: str | Path, entries: Iterable[Entry]) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    n = 0
    with tmp.open("w", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e.as_json(), ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, path)
    return n


def iter_manifest(path: str | Path) -> Iterator[Entry]:
    path = Path(path)
    if not path.exists():
        raise BadInputError(f"manifest {path} does not exist")
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield Entry.from_json(json.loads(line))
            except (json.JSONDecodeError, TypeError) as exc:
                raise BadInputError(f"{path}:{lineno}: not a manifest entry ({exc})") from exc


def read_manifest(path: str | Path) -> list[Entry]:
    return list(iter_manifest(path))


def read_manifests(paths: Iterable[str | Path]) -> list[tuple[Entry, Path]]:
    """Entries of several manifests, each with the directory its relative audio paths start from."""
    out = []
    for p in paths:
        root = Path(p).resolve().parent
        out.extend((e, root) for e in iter_manifest(p))
    return out


def meta_path(manifest: str | Path) -> Path:
    """The sidecar where ingest records what it did (sources, filters, dropped counts)."""
    manifest = Path(manifest)
    return manifest.with_name(manifest.name + ".meta.json")


def read_meta(manifest: str | Path) -> dict:
    p = meta_path(manifest)
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}
