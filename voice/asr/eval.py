"""Evaluate a Whisper model on a manifest: WER/CER after the language pack's normaliser.

    results = evaluate("runs/wol/export", ["data/fleurs-wo.jsonl"], split="test")
    write_results(results, "runs/wol/eval")          # eval.json + eval.md

Every utterance is transcribed through the production path (`Recognizer`: VAD gate, guards)
twice: as recorded ("clean") and through the simulated phone channel ("telephone": 8 kHz,
300-3400 Hz, mu-law, line noise at `telephone_snr_db`, deterministic per utterance). Scores are
corpus-level (errors summed over all words/characters), overall and per source, per speaker and
per language. A transformers model dir is converted to CTranslate2 (float32, cached) and decoded
with faster-whisper, so new language tokens work and the numbers are the deployed engine's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from corpora.audio import load_segment
from corpora.manifest import Entry, read_manifests
from corpora.text import normalise, normaliser_id
from voice.asr.augment import telephone
from voice.asr.finetune.tokens import SPECIAL_LETTERS
from voice.errors import BadInputError
from voice.ui import progress_bar

log = logging.getLogger(__name__)
CONDITIONS = ("clean", "telephone")


def error_rates(refs: Sequence[str], hyps: Sequence[str]) -> dict:
    """Corpus-level WER and CER (fractions); pairs with an empty reference are left out."""
    import jiwer

    pairs = [(r, h) for r, h in zip(refs, hyps, strict=True) if r.strip()]
    if not pairs:
        return {"wer": None, "cer": None, "words": 0, "chars": 0, "utterances": 0}
    r, h = [p[0] for p in pairs], [p[1] for p in pairs]
    words = jiwer.process_words(r, h)
    chars = jiwer.process_characters(r, h)
    n_words = words.hits + words.substitutions + words.deletions
    n_chars = chars.hits + chars.substitutions + chars.deletions
    return {
        "wer": round(float(words.wer), 4),
        "cer": round(float(chars.cer), 4),
        "words": n_words,
        "chars": n_chars,
        "substitutions": words.substitutions,
        "deletions": words.deletions,
        "insertions": words.insertions,
        "utterances": len(pairs),
    }


def _engine_for(model: str, engine: str | None) -> tuple[str, str]:
    """(engine, model spec) to decode with; a transformers dir becomes a cached CTranslate2 copy."""
    from voice.asr.models import CT2, HF, OPENAI, models_cache_dir, resolve_model

    resolved = resolve_model(model)
    if engine and engine != "auto":
        return engine, str(resolved.path)
    if resolved.format == CT2:
        return "faster-whisper", str(resolved.path)
    if resolved.format == OPENAI:
        return "openai-whisper", str(resolved.path)
    assert resolved.format == HF
    weights = sorted(resolved.path.glob("*.safetensors")) or sorted(resolved.path.glob("*.bin"))
    stamp = "|".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in weights)
    key = hashlib.sha256(f"{resolved.path}|{stamp}".encode()).hexdigest()[:16]
    target = models_cache_dir() / "eval-ct2" / key
    if not (target / "model.bin").exists():
        from voice.asr.export import to_ct2

        log.info("converting %s to CTranslate2 for evaluation", resolved.path)
        to_ct2(resolved.path, target, quantization=None)
    return "faster-whisper", str(target)


def _reference(entry: Entry) -> str:
    if entry.normaliser and entry.normaliser == normaliser_id(entry.language):
        return entry.text_norm
    return normalise(entry.tagged_text(), entry.language)


def _seed(entry_id: str) -> int:
    return int.from_bytes(hashlib.sha256(entry_id.encode()).digest()[:8], "little")


def _scores(rows: list[dict], condition: str, key: str | None) -> dict:
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        groups[row[key] if key else "all"].append(row)
    out = {}
    for name, members in sorted(groups.items()):
        rates = error_rates([m["ref"] for m in members], [m["hyp"][condition] for m in members])
        rates["hours"] = round(sum(m["duration"] for m in members) / 3600, 4)
        out[name] = rates
    return out


def _letters(rows: list[dict], condition: str) -> dict:
    """How often each special letter is in the references vs the hypotheses (a CER hint)."""
    out = {}
    for letter in SPECIAL_LETTERS:
        ref = sum(r["ref"].count(letter) for r in rows)
        if ref:
            hyp = sum(r["hyp"][condition].count(letter) for r in rows)
            out[letter] = {"ref": ref, "hyp": hyp}
    return out


def evaluate(
    model: str,
    manifests: Sequence[str],
    split: str | None = "test",
    language: str | None = None,
    engine: str | None = None,
    conditions: Sequence[str] = CONDITIONS,
    limit: int | None = None,
    settings=None,
    telephone_snr_db: float | None = 20.0,
) -> dict:
    """Transcribe and score; returns the results dict (see `write_results`)."""
    from voice.asr import get_recognizer
    from voice.audio import Audio
    from voice.config import get_settings

    for c in conditions:
        if c not in CONDITIONS:
            raise BadInputError(f"unknown condition {c!r}; choose from {', '.join(CONDITIONS)}")
    items = [
        (e, root)
        for e, root in read_manifests(manifests)
        if (split in (None, "all") or e.split == split) and (language is None or e.language == language)
    ]
    if limit:
        items = items[:limit]
    if not items:
        raise BadInputError(
            f"no {split or ''} utterances{f' in {language}' if language else ''} in the manifest(s)"
        )
    engine_name, model_path = _engine_for(model, engine)
    settings = settings or get_settings().asr
    recognizer = get_recognizer(engine_name, model_path, settings)
    rows = []
    with progress_bar(f"Evaluating {Path(model).name}", len(items) * len(conditions)) as bar:
        for e, root in items:
            samples = load_segment(e.audio_path(root), e.offset, e.duration)
            hyp, raw = {}, {}
            for condition in conditions:
                audio = samples
                if condition == "telephone":
                    audio = telephone(samples, 16000, np.random.default_rng(_seed(e.id)), telephone_snr_db)
                text = recognizer.transcribe(Audio(audio, 16000), e.language).text
                raw[condition] = text
                hyp[condition] = normalise(text, e.language)
                bar.advance()
            rows.append(
                {
                    "id": e.id,
                    "source": e.source,
                    "speaker": e.speaker,
                    "language": e.language,
                    "duration": e.duration,
                    "ref": _reference(e),
                    "hyp": hyp,
                    "raw": raw,
                }
            )
    results = {
        "model": str(model),
        "decoded_with": {
            "engine": engine_name,
            "model": model_path,
            "compute_type": settings.compute_type,
            "beam_size": settings.beam_size,
            "vad_gate": settings.vad_gate,
        },
        "manifests": [str(m) for m in manifests],
        "split": split,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "normalisers": sorted({normaliser_id(r["language"]) for r in rows}),
        "utterances": len(rows),
        "hours": round(sum(r["duration"] for r in rows) / 3600, 4),
        "telephone_snr_db": telephone_snr_db,
        "conditions": {},
    }
    for condition in conditions:
        results["conditions"][condition] = {
            **_scores(rows, condition, None)["all"],
            "per_source": _scores(rows, condition, "source"),
            "per_language": _scores(rows, condition, "language"),
            "per_speaker": _scores(rows, condition, "speaker"),
            "letters": _letters(rows, condition),
        }
    c = results["conditions"]
    if "clean" in c and "telephone" in c and c["clean"]["wer"] is not None:
        results["telephone_wer_delta"] = round(c["telephone"]["wer"] - c["clean"]["wer"], 4)
    results["utterance_results"] = rows
    return results


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def markdown(results: dict, max_speakers: int = 20) -> str:
    lines = [
        f"# ASR evaluation: {Path(results['model']).name}",
        "",
        f"{results['utterances']} utterances ({results['hours']:.2f} h), split `{results['split']}`, "
        f"normaliser {', '.join(results['normalisers'])}, decoded with {results['decoded_with']['engine']} "
        f"({results['decoded_with']['compute_type']}, beam {results['decoded_with']['beam_size']}). "
        "WER and CER in percent.",
        "",
        "| condition | source | utterances | hours | WER | CER |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for condition, c in results["conditions"].items():
        lines.append(
            f"| {condition} | **all** | {c['utterances']} | {c['hours']:.2f} | **{_pct(c['wer'])}** | "
            f"**{_pct(c['cer'])}** |"
        )
        for source, s in c["per_source"].items():
            lines.append(
                f"| {condition} | {source} | {s['utterances']} | {s['hours']:.2f} | {_pct(s['wer'])} | "
                f"{_pct(s['cer'])} |"
            )
    if "telephone_wer_delta" in results:
        lines += [
            "",
            f"Telephone channel: {100 * results['telephone_wer_delta']:+.1f} WER points against clean "
            f"(line noise at {results['telephone_snr_db']} dB SNR).",
        ]
    first = next(iter(results["conditions"]))
    speakers = sorted(
        results["conditions"][first]["per_speaker"].items(), key=lambda kv: -(kv[1]["wer"] or 0)
    )
    if speakers:
        conds = list(results["conditions"])
        lines += [
            "",
            f"## Per speaker (worst {min(max_speakers, len(speakers))} by {first} WER)",
            "",
            "| speaker | utterances | " + " | ".join(f"WER {c}" for c in conds) + " |",
            "|---|---:|" + "---:|" * len(conds),
        ]
        for spk, s in speakers[:max_speakers]:
            cells = " | ".join(_pct(results["conditions"][c]["per_speaker"][spk]["wer"]) for c in conds)
            lines.append(f"| {spk} | {s['utterances']} | {cells} |")
    letters = results["conditions"][first].get("letters") or {}
    if letters:
        lines += [
            "",
            "Special letters (count in references / in hypotheses, "
            + first
            + "): "
            + ", ".join(f"{k} {v['ref']}/{v['hyp']}" for k, v in letters.items()),
        ]
    return "\n".join(lines) + "\n"


def write_results(results: dict, out_dir: str | Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    j, m = out_dir / "eval.json", out_dir / "eval.md"
    j.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    m.write_text(markdown(results), encoding="utf-8")
    return j, m
