"""Ingest a source into a manifest: read, clean, normalise, filter, dedup, split, write.

    from corpora.ingest import IngestOptions, ingest
    report = ingest(IngestOptions(fmt="stm", src="kallaama/raw-wol", out="wol.jsonl", language="wol",
                                  source="kallaama", audio_dirs=["kallaama/audio-wol"]))

The same steps run for every format; `report` (also saved as `<manifest>.meta.json`) says how
many utterances each filter dropped, so the data card can show it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from corpora.audio import audio_duration, load_segment
from corpora.manifest import Entry, meta_path, write_manifest
from corpora.recipes import FORMATS, RawUtterance, read_folder, read_hf, read_kaldi, read_stm
from corpora.sources import source_info
from corpora.split import assign_splits, speaker_overlap
from corpora.text import clean_transcript, normalise, normaliser_id, pack_code, tagged
from voice.errors import BadInputError
from voice.ui import progress_bar

log = logging.getLogger(__name__)


@dataclass
class IngestOptions:
    fmt: str
    src: str
    out: str
    language: str | None = None
    source: str | None = None  # name in manifests; default: the source dir's name
    licence: str | None = None  # default: from corpora.sources, else "unknown"
    split: str = "auto"
    dev: float = 0.1
    test: float = 0.1
    seed: int = 0
    group_by: str = "speaker"
    min_duration: float = 0.5
    max_duration: float = 30.0  # Whisper sees 30 s windows; longer labels cannot be aligned
    max_chars_per_second: float = 25.0
    keep_unintelligible: bool = False
    dedup: bool = True
    audio_dirs: list[str] = field(default_factory=list)
    audio_out: str | None = None  # hf audio / cut segments; default <manifest dir>/audio
    cut: bool = False  # write every utterance as its own 16 kHz wav
    missing_audio: str = "error"  # error | skip
    hf_config: str | None = None
    hf_splits: list[str] | None = None
    text_column: str | None = None
    speaker_column: str | None = None
    gender_column: str | None = None


def _read(opts: IngestOptions, audio_out: Path) -> list[RawUtterance]:
    src = Path(opts.src).expanduser()
    dirs = [Path(d).expanduser() for d in opts.audio_dirs]
    if opts.fmt != "hf" and not src.exists():
        raise BadInputError(f"{src} does not exist")
    if opts.fmt == "kaldi":
        it = read_kaldi(src, dirs)
    elif opts.fmt == "stm":
        it = read_stm(src, dirs)
    elif opts.fmt == "folder":
        it = read_folder(src, dirs)
    elif opts.fmt == "hf":
        it = read_hf(
            opts.src,
            audio_out,
            opts.hf_config,
            opts.hf_splits,
            opts.text_column,
            opts.speaker_column,
            opts.gender_column,
        )
    else:
        raise BadInputError(f"unknown format {opts.fmt!r}; choose one of {', '.join(FORMATS)}")
    out = []
    with progress_bar(f"Reading {opts.fmt} {src.name}", None) as bar:
        for raw in it:
            out.append(raw)
            bar.advance()
    return out


def _file_hash(path: str, cache: dict[str, str]) -> str:
    if path not in cache:
        digest = hashlib.sha1()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        cache[path] = digest.hexdigest()
    return cache[path]


def ingest(opts: IngestOptions) -> dict:
    out = Path(opts.out).expanduser().resolve()
    audio_out = Path(opts.audio_out).expanduser().resolve() if opts.audio_out else out.parent / "audio"
    source = opts.source or Path(opts.src.rstrip("/")).name or opts.fmt
    info = source_info(source)
    licence = opts.licence or (info.licence if info else "unknown")
    if licence == "unknown":
        log.warning("no licence known for source %r: pass --licence", source)
    raws = _read(opts, audio_out)
    if not raws:
        raise BadInputError(f"{opts.src}: no utterances found")

    dropped: Counter[str] = Counter()
    missing = [r for r in raws if not r.audio]
    if missing and opts.missing_audio == "error":
        example = missing[0]
        raise BadInputError(
            f"{len(missing)} of {len(raws)} utterances have no audio file (first: {example.id}, recording "
            f"{example.recording!r}); point --audio-dir at the audio, or pass --missing-audio skip"
        )
    durations: dict[str, float] = {}
    entries: list[Entry] = []
    recordings: list[str] = []
    unintelligible = 0
    with progress_bar("Checking audio and text", len(raws)) as bar:
        for r in raws:
            bar.advance()
            if not r.audio:
                dropped["no audio file"] += 1
                continue
            if r.audio not in durations:
                try:
                    durations[r.audio] = audio_duration(r.audio)
                except Exception as exc:
                    log.warning("%s: unreadable audio (%s)", r.audio, exc)
                    durations[r.audio] = -1.0
            file_dur = durations[r.audio]
            if file_dur < 0:
                dropped["unreadable audio"] += 1
                continue
            duration = file_dur - r.offset if r.duration is None else r.duration
            if r.offset + duration > file_dur + 0.5:
                dropped["segment beyond the end of its audio"] += 1
                continue
            language = r.language or opts.language
            if not language:
                raise BadInputError("the source does not say its language: pass --lang (e.g. --lang wol)")
            language = pack_code(language)
            clean = clean_transcript(r.transcript)
            norm = normalise(tagged(clean.text, clean.foreign), language)
            reason = None
            if clean.unintelligible:
                unintelligible += 1
            if not norm:
                reason = "empty text (noise or hesitation only)"
            elif duration < opts.min_duration:
                reason = f"shorter than {opts.min_duration:g} s"
            elif duration > opts.max_duration:
                reason = f"longer than {opts.max_duration:g} s"
            elif len(norm) / max(duration, 1e-3) > opts.max_chars_per_second:
                reason = f"more than {opts.max_chars_per_second:g} characters per second"
            elif clean.unintelligible and not opts.keep_unintelligible:
                reason = "unintelligible words (*) in the transcript"
            if reason:
                dropped[reason] += 1
                continue
            entries.append(
                Entry(
                    id=f"{source}-{r.id}",
                    audio=r.audio,
                    offset=r.offset,
                    duration=duration,
                    text=clean.text,
                    text_norm=norm,
                    speaker=r.speaker or "unknown",
                    gender=r.gender,
                    language=language,
                    source=source,
                    licence=licence,
                    split=r.split,
                    foreign=clean.foreign,
                    normaliser=normaliser_id(language),
                )
            )
            recordings.append(r.recording)

    if opts.dedup:
        entries, recordings, dups = _dedup(entries, recordings)
        dropped.update(dups)
    if not entries:
        raise BadInputError(f"{opts.src}: every utterance was filtered out ({dict(dropped)})")
    split_report = assign_splits(
        entries, recordings, opts.split, opts.dev, opts.test, opts.seed, opts.group_by
    )
    if opts.cut:
        _cut(entries, audio_out / "segments" / source)
    n = write_manifest(out, entries)
    overlap = speaker_overlap(entries)
    if overlap:
        log.warning("%d speakers are in more than one split (source splits kept)", len(overlap))
    report = {
        "manifest": str(out),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "options": {k: v for k, v in asdict(opts).items() if k not in ("out",)},
        "source": source,
        "licence": licence,
        "attribution": info.attribution if info else None,
        "read": len(raws),
        "written": n,
        "dropped": dict(dropped),
        "unintelligible_seen": unintelligible,
        "split": split_report,
        "speakers_in_several_splits": len(overlap),
    }
    meta_path(out).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    return report


def _dedup(entries: list[Entry], recordings: list[str]) -> tuple[list[Entry], list[str], Counter]:
    """Drop repeated ids, the same audio twice (same segment, or byte-identical files), and the same
    speaker saying the same normalised text twice (repeated takes, 'waaw' backchannels)."""
    dropped: Counter[str] = Counter()
    hashes: dict[str, str] = {}
    seen_ids, seen_audio, seen_said = set(), set(), set()
    kept, kept_recs = [], []
    whole = Counter(e.audio for e in entries)
    with progress_bar("Removing duplicates", len(entries)) as bar:
        for e, rec in zip(entries, recordings, strict=True):
            bar.advance()
            if e.id in seen_ids:
                dropped["duplicate id"] += 1
                continue
            if whole[e.audio] == 1 and e.offset == 0:
                audio_key = ("file", _file_hash(e.audio, hashes))
            else:
                audio_key = ("segment", e.audio, round(e.offset, 2), round(e.duration, 2))
            if audio_key in seen_audio:
                dropped["duplicate audio"] += 1
                continue
            said = (e.speaker, e.text_norm)
            if e.speaker != "unknown" and said in seen_said:
                dropped["same speaker, same text"] += 1
                continue
            seen_ids.add(e.id)
            seen_audio.add(audio_key)
            seen_said.add(said)
            kept.append(e)
            kept_recs.append(rec)
    return kept, kept_recs, dropped


def _cut(entries: list[Entry], out_dir: Path) -> None:
    """Write each utterance as its own 16 kHz wav (training reads many small files fastest)."""
    from voice.audio import Audio, write_audio

    out_dir.mkdir(parents=True, exist_ok=True)
    order = sorted(range(len(entries)), key=lambda i: (entries[i].audio, entries[i].offset))
    with progress_bar("Cutting utterances", len(entries)) as bar:
        for i in order:
            e = entries[i]
            target = out_dir / f"{e.id}.wav"
            if not target.exists():
                write_audio(target, Audio(load_segment(e.audio, e.offset, e.duration), 16000), "wav")
            e.audio, e.offset = str(target), 0.0
            bar.advance()
