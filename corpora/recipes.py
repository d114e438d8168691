"""Source readers: Kaldi data dirs, NIST STM + audio, Hugging Face datasets, plain folders.

Each yields `RawUtterance`s (paths resolved, transcript as written); `corpora.ingest` does the
rest (durations, clean-up, normaliser, filters, dedup, splits) the same way for all of them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from voice.errors import BadInputError

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".sph", ".aac", ".webm", ".amr")
SPLIT_NAMES = {
    "train": "train", "training": "train",
    "dev": "dev", "valid": "dev", "validation": "dev", "val": "dev",
    "test": "test", "eval": "test", "evaluation": "test",
}  # fmt: skip
FORMATS = ("kaldi", "stm", "hf", "folder")


@dataclass
class RawUtterance:
    id: str
    audio: str  # resolved path ("" when the audio is missing)
    offset: float
    duration: float | None  # None: the whole file (measured by ingest)
    transcript: str  # as written in the source, mark-up included
    speaker: str | None
    gender: str | None
    split: str | None  # the source's own split, if it has one
    recording: str  # what a speaker id is local to (a file, a session)
    language: str | None = None


def split_name(name: str) -> str | None:
    return SPLIT_NAMES.get(name.lower())


def gender_of(value: object) -> str | None:
    if value is None:
        return None
    v = str(value).strip().lower()
    if v in ("m", "male", "man", "homme", "h", "0"):
        return "male"
    if v in ("f", "female", "woman", "femme", "1"):
        return "female"
    return None


class AudioIndex:
    """Finds audio files by relative path, name or stem under a few roots (built lazily)."""

    def __init__(self, roots: list[Path]):
        self.roots = [r.resolve() for r in roots if r and r.exists()]
        self._by_name: dict[str, Path] | None = None
        self._by_stem: dict[str, Path] | None = None

    def _build(self) -> None:
        self._by_name, self._by_stem = {}, {}
        for root in self.roots:
            files = [root] if root.is_file() else root.rglob("*")
            for p in files:
                if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file():
                    self._by_name.setdefault(p.name, p)
                    self._by_stem.setdefault(p.stem, p)

    def resolve(self, ref: str, bases: list[Path] = ()) -> Path | None:
        p = Path(ref).expanduser()
        if p.is_absolute():
            if p.exists():
                return p
        else:
            for base in [*bases, *self.roots]:
                cand = base / p
                if cand.exists():
                    return cand.resolve()
        if self._by_name is None:
            self._build()
        return self._by_name.get(p.name)

    def by_stem(self, stem: str) -> Path | None:
        if self._by_stem is None:
            self._build()
        return self._by_stem.get(stem)


# --- Kaldi ----------------------------------------------------------------------------------------


def _kaldi_table(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(None, 1)
        if parts:
            out[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    return out


def kaldi_data_dirs(src: Path) -> list[Path]:
    if (src / "wav.scp").exists():
        return [src]
    dirs = sorted(p.parent for p in src.rglob("wav.scp"))
    if not dirs:
        raise BadInputError(f"{src}: no Kaldi data dir (a folder with wav.scp, text, utt2spk) found")
    return dirs


def _scp_audio(value: str, index: AudioIndex, bases: list[Path]) -> Path | None:
    """The audio file of a wav.scp entry: a path, or the first audio file named in a pipe command."""
    value = value.strip()
    if not value.endswith("|"):
        return index.resolve(value, bases)
    for token in value[:-1].split():
        if Path(token).suffix.lower() in AUDIO_EXTENSIONS:
            found = index.resolve(token, bases)
            if found:
                return found
    return None


def read_kaldi(src: Path, audio_dirs: list[Path] = ()) -> Iterator[RawUtterance]:
    """Kaldi data dirs (ALFFA Wolof layout: data/{train,dev,test}/{wav.scp,text,utt2spk}).

    Optional files: `segments` (utt rec start end), `spk2gender` (spk m|f). Relative wav.scp
    paths are tried against the data dir, its parents and `audio_dirs`, then by file name.
    Pipe entries (`sox x.wav -t wav - |`) use the audio file they name; commands are never run.
    """
    src = src.resolve()
    index = AudioIndex([src, *audio_dirs])
    for data_dir in kaldi_data_dirs(src):
        split = split_name(data_dir.name)
        bases = [data_dir, *list(data_dir.parents)[:4]]
        wav = _kaldi_table(data_dir / "wav.scp")
        text = _kaldi_table(data_dir / "text")
        utt2spk = _kaldi_table(data_dir / "utt2spk")
        spk2gender = _kaldi_table(data_dir / "spk2gender")
        segments = _kaldi_table(data_dir / "segments")
        if not text:
            raise BadInputError(f"{data_dir}: no `text` file (utterance id, transcript)")
        audio_of = {rec: _scp_audio(v, index, bases) for rec, v in wav.items()}
        for utt, transcript in text.items():
            if segments:
                seg = segments.get(utt, "").split()
                if len(seg) != 3:
                    log.warning("%s: %s has no segment line", data_dir, utt)
                    continue
                rec, offset, duration = seg[0], float(seg[1]), float(seg[2]) - float(seg[1])
            else:
                rec, offset, duration = utt, 0.0, None
            spk = utt2spk.get(utt)
            path = audio_of.get(rec)
            yield RawUtterance(
                id=utt,
                audio=str(path) if path else "",
                offset=offset,
                duration=duration,
                transcript=transcript,
                speaker=spk,
                gender=gender_of(spk2gender.get(spk)) if spk else None,
                split=split,
                recording=rec,
            )


# --- NIST STM ------------------------------------------------------------------------------------

_STM_LABEL = re.compile(r"^<([^>]*)>\s*")
STM_SKIP_SPEAKERS = ("excluded_region", "inter_segment_gap")


def stm_files(src: Path) -> list[Path]:
    if src.is_file():
        return [src]
    files = sorted(src.rglob("*.stm"))
    if not files:
        raise BadInputError(f"{src}: no .stm files found")
    return files


def read_stm(src: Path, audio_dirs: list[Path] = ()) -> Iterator[RawUtterance]:
    """NIST STM transcripts (`file channel speaker start end [<o,f1,male>] text`) and their audio.

    Audio is found by the recording name (`<file>.wav|.flac|.mp3|...`) next to the STM files or
    under `audio_dirs`. Speaker labels are local to a recording (`locuteur_1` in every Kallaama
    file), so speaker ids are `<file>/<label>`. Excluded regions and ignored segments are skipped.
    """
    src = src.resolve()
    index = AudioIndex([src if src.is_dir() else src.parent, *audio_dirs])
    for stm in stm_files(src):
        for lineno, line in enumerate(stm.read_text(encoding="utf-8").splitlines(), 1):
            line = line.strip()
            if not line or line.startswith(";;"):
                continue
            parts = line.split(None, 5)
            if len(parts) < 5:
                log.warning("%s:%d: not an STM line", stm, lineno)
                continue
            rec, _channel, spk, start, end = parts[:5]
            rest = parts[5] if len(parts) == 6 else ""
            if spk in STM_SKIP_SPEAKERS or "ignore_time_segment_in_scoring" in rest:
                continue
            gender = None
            label = _STM_LABEL.match(rest)
            if label:
                fields = label.group(1).split(",")
                gender = gender_of(fields[2]) if len(fields) >= 3 else None
                rest = rest[label.end() :]
            try:
                t0, t1 = float(start), float(end)
            except ValueError:
                log.warning("%s:%d: bad times", stm, lineno)
                continue
            path = index.by_stem(rec)
            yield RawUtterance(
                id=f"{rec}-{spk}-{int(round(t0 * 1000)):08d}",
                audio=str(path) if path else "",
                offset=t0,
                duration=t1 - t0,
                transcript=rest.strip(),
                speaker=f"{rec}/{spk}",
                gender=gender,
                split=None,
                recording=rec,
            )


# --- plain folders -------------------------------------------------------------------------------

TEXT_SUFFIXES = (".txt", ".lab")


def read_folder(src: Path, audio_dirs: list[Path] = ()) -> Iterator[RawUtterance]:
    """Audio files with a same-named .txt (or .lab) transcript beside them.

    Layout: `SRC/[split/][speaker/]name.wav` + `name.txt`. A first folder named train/dev/test
    gives the split; the next folder the speaker (else the speaker is unknown). An optional
    `SRC/speakers.tsv` (`speaker<TAB>gender`) gives genders.
    """
    src = src.resolve()
    genders: dict[str, str | None] = {}
    tsv = src / "speakers.tsv"
    if tsv.exists():
        for line in tsv.read_text(encoding="utf-8").splitlines():
            cols = line.split("\t")
            if len(cols) >= 2 and cols[0] != "speaker":
                genders[cols[0].strip()] = gender_of(cols[1])
    found = 0
    for audio in sorted(p for p in src.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()):
        txt = next((audio.with_suffix(s) for s in TEXT_SUFFIXES if audio.with_suffix(s).exists()), None)
        if txt is None:
            log.info("%s has no transcript beside it; skipped", audio)
            continue
        rel = audio.relative_to(src).parts[:-1]
        split = split_name(rel[0]) if rel else None
        rest = rel[1:] if split else rel
        speaker = rest[0] if rest else None
        found += 1
        yield RawUtterance(
            id="-".join([*rel, audio.stem]),
            audio=str(audio),
            offset=0.0,
            duration=None,
            transcript=txt.read_text(encoding="utf-8").strip(),
            speaker=speaker,
            gender=genders.get(speaker) if speaker else None,
            split=split,
            recording=str(audio.relative_to(src)),
        )
    if not found:
        raise BadInputError(f"{src}: no audio file with a .txt transcript beside it")


# --- Hugging Face datasets -----------------------------------------------------------------------

TEXT_COLUMNS = ("raw_transcription", "transcription", "sentence", "text", "transcript", "normalized_text")
SPEAKER_COLUMNS = ("speaker_id", "speaker", "client_id", "spk_id", "spk")
GENDER_COLUMNS = ("gender", "sex")
ID_COLUMNS = ("path", "utt_id", "file", "filename", "id")  # FLEURS "id" is the sentence, not the row


def load_hf(src: str, config: str | None = None):
    """A DatasetDict from a save_to_disk dir, a local data dir (parquet, audiofolder) or a hub id."""
    try:
        import datasets
    except ImportError as exc:
        raise BadInputError("the hf format needs `pip install 'teranga-voice[train]'` (datasets)") from exc
    path = Path(src).expanduser()
    if path.exists() and ((path / "dataset_dict.json").exists() or (path / "state.json").exists()):
        ds = datasets.load_from_disk(str(path))
    else:
        try:
            ds = datasets.load_dataset(str(path) if path.exists() else src, config)
        except Exception as exc:
            raise BadInputError(
                f"cannot load the dataset {src!r}{f' ({config})' if config else ''}: "
                f"{type(exc).__name__}: {str(exc)[:300]}. Offline, load it on a connected machine "
                "(`datasets.load_dataset(...).save_to_disk(DIR)`) and pass DIR"
            ) from None
    if isinstance(ds, datasets.Dataset):
        ds = datasets.DatasetDict({"train": ds})
    return ds


def _pick(columns: list[str], wanted: str | None, candidates: tuple[str, ...], what: str) -> str | None:
    if wanted:
        if wanted not in columns:
            raise BadInputError(f"no {what} column {wanted!r}; the dataset has: {', '.join(columns)}")
        return wanted
    return next((c for c in candidates if c in columns), None)


def read_hf(
    src: str,
    audio_out: Path,
    config: str | None = None,
    splits: list[str] | None = None,
    text_column: str | None = None,
    speaker_column: str | None = None,
    gender_column: str | None = None,
    audio_column: str = "audio",
) -> Iterator[RawUtterance]:
    """Rows of a Hugging Face dataset; audio kept where it is on disk, else written as wav.

    Audio is read undecoded (`Audio(decode=False)`) and decoded by our own decoder, so no
    torchcodec/ffmpeg binding is needed. Gender columns may be strings or ClassLabels (FLEURS).
    """
    import datasets

    from voice.audio import load_audio, write_audio

    dsd = load_hf(src, config)
    source_tag = re.sub(r"[^\w.-]+", "_", f"{Path(src).name}{'-' + config if config else ''}")
    for split_key, ds in dsd.items():
        if splits and split_key not in splits:
            continue
        columns = list(ds.column_names)
        if audio_column not in columns:
            raise BadInputError(f"no audio column {audio_column!r}; the dataset has: {', '.join(columns)}")
        tcol = _pick(columns, text_column, TEXT_COLUMNS, "text")
        if tcol is None:
            raise BadInputError(
                f"no transcript column found; pass --text-column (columns: {', '.join(columns)})"
            )
        scol = _pick(columns, speaker_column, SPEAKER_COLUMNS, "speaker")
        gcol = _pick(columns, gender_column, GENDER_COLUMNS, "gender")
        gnames = None
        if gcol and isinstance(ds.features.get(gcol), datasets.ClassLabel):
            gnames = ds.features[gcol].names
        icol = next((c for c in ID_COLUMNS if c in columns), None)
        ds = ds.cast_column(audio_column, datasets.Audio(decode=False))
        split = split_name(split_key)
        out_dir = audio_out / source_tag / split_key
        seen: set[str] = set()
        for i, row in enumerate(ds):
            a = row[audio_column] or {}
            ident = Path(str(row[icol])).stem if icol and row.get(icol) not in (None, "") else str(i)
            ident = re.sub(r"[^\w.-]+", "_", ident)
            if ident in seen:
                ident = f"{ident}-{i}"
            seen.add(ident)
            path = Path(a["path"]) if a.get("path") else None
            if path is None or not path.is_file():
                if not a.get("bytes"):
                    log.warning("%s row %d: no audio", split_key, i)
                    continue
                path = out_dir / f"{ident}.wav"
                if not path.exists():
                    write_audio(path, load_audio(a["bytes"], 16000, name=f"{split_key}[{i}]"), "wav")
            g = row.get(gcol) if gcol else None
            if gnames is not None and isinstance(g, int) and 0 <= g < len(gnames):
                g = gnames[g]
            yield RawUtterance(
                id=f"{split_key}-{ident}",
                audio=str(path.resolve()),
                offset=0.0,
                duration=None,
                transcript=str(row[tcol] or ""),
                speaker=str(row[scol]) if scol and row.get(scol) not in (None, "") else None,
                gender=gender_of(g),
                split=split,
                recording=f"{split_key}-{ident}",
            )
