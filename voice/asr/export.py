"""Export a fine-tuned Whisper for faster-whisper, with a model card and the pack's manifest pieces.

    export_model("runs/wol/final", "runs/wol/export", quantization="int8", evals=["runs/wol/eval/eval.json"])
    fragment = pack_fragment("runs/wol/export")   # artifact (sha256, size), asr tier, eval results

The export dir is a CTranslate2 model (what `FasterWhisperEngine` loads) plus `voice-asr.json`
(the language-token choice, which the recognizer honours, training data and eval results) and
`README.md` (Hugging Face front matter with model-index results). It holds no hidden files, so
its digest is the same after `voice packs build --bundle-models` copies it into a pack.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from voice.errors import BadInputError, ModelError

MODEL_INFO = "voice-asr.json"
QUANTIZATIONS = ("int8", "int8_float16", "float16", "float32")
WHISPER_LICENCE = "MIT (OpenAI Whisper weights)"


def _read_info(model_dir: Path) -> dict:
    p = model_dir / MODEL_INFO
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def merge_adapter(adapter_dir: Path, out_dir: Path) -> Path:
    """A LoRA adapter dir (peft) merged into its base, saved as a plain transformers dir."""
    from peft import PeftConfig, PeftModel
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    cfg = PeftConfig.from_pretrained(str(adapter_dir))
    base_dir = adapter_dir.parent / "prepared"
    base = str(base_dir) if base_dir.exists() else cfg.base_model_name_or_path
    model = WhisperForConditionalGeneration.from_pretrained(base)
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out_dir))
    WhisperProcessor.from_pretrained(base).save_pretrained(str(out_dir))
    if (Path(base) / MODEL_INFO).exists():
        shutil.copyfile(Path(base) / MODEL_INFO, out_dir / MODEL_INFO)
    return out_dir


def to_ct2(model_dir: str | Path, out_dir: str | Path, quantization: str | None = "int8") -> Path:
    """transformers Whisper dir (or LoRA adapter dir) -> CTranslate2 dir with voice-asr.json."""
    import tempfile

    from voice.asr.convert import hf_to_ct2

    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if quantization == "float32":
        quantization = None
    with tempfile.TemporaryDirectory(prefix="voice-export-") as tmp:
        src = model_dir
        if (model_dir / "adapter_config.json").exists():
            src = merge_adapter(model_dir, Path(tmp) / "merged")
        if not (src / "config.json").exists():
            raise BadInputError(f"{model_dir}: not a transformers Whisper dir (no config.json)")
        if not (src / "tokenizer.json").exists():
            from transformers import WhisperTokenizerFast

            staged = Path(tmp) / "with-tokenizer"
            shutil.copytree(src, staged)
            WhisperTokenizerFast.from_pretrained(str(src)).save_pretrained(str(staged))
            src = staged
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        hf_to_ct2(src, out_dir, quantization)
        info = _read_info(src)
    config = json.loads((out_dir / "config.json").read_text())
    for lang in info.get("languages", []):
        if lang.get("token_id") is not None and lang["token_id"] not in config.get("lang_ids", []):
            raise ModelError(
                f"{lang['whisper_language']} (id {lang['token_id']}) is missing from the "
                "CTranslate2 lang_ids; the generation config lost it"
            )
    info["export"] = {
        "format": "ctranslate2",
        "quantization": quantization or "float32",
        "from": str(model_dir),
    }
    (out_dir / MODEL_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    for hidden in out_dir.glob(".*"):
        if hidden.is_file():
            hidden.unlink()
    return out_dir


def eval_summary(eval_json: str | Path) -> dict:
    """The headline numbers of a `voice asr eval` results file (no per-utterance rows)."""
    r = json.loads(Path(eval_json).read_text(encoding="utf-8"))
    conditions = {}
    for name, c in r["conditions"].items():
        conditions[name] = {
            "wer": c["wer"],
            "cer": c["cer"],
            "utterances": c["utterances"],
            "hours": c["hours"],
            "per_source": {
                s: {"wer": v["wer"], "cer": v["cer"], "utterances": v["utterances"]}
                for s, v in c["per_source"].items()
            },
        }
    return {
        "test_set": "+".join(Path(m).stem for m in r["manifests"]) + f":{r['split']}",
        "manifests": r["manifests"],
        "split": r["split"],
        "normalisers": r["normalisers"],
        "decoded_with": r["decoded_with"],
        "telephone_snr_db": r.get("telephone_snr_db"),
        "conditions": conditions,
        "telephone_wer_delta": r.get("telephone_wer_delta"),
    }


def _default_licence(info: dict) -> str:
    licences = {
        s.get("licence", "unknown") for s in info.get("data", {}).get("train", {}).get("sources", {}).values()
    }
    return "cc-by-4.0" if any("CC-BY" in lic.upper() for lic in licences) else "mit"


def model_card(export_dir: Path, info: dict, evals: list[dict], licence: str, name: str) -> str:
    lang = (info.get("languages") or [{}])[0]
    code = lang.get("language", "und")
    from voice.packs import find_pack

    pack = find_pack(code)
    hf_lang = pack.manifest.bcp47.split("-")[0] if pack else code
    train = info.get("data", {}).get("train", {})
    sources = train.get("sources", {})
    results = []
    for ev in evals:
        for source, _ in (ev["conditions"].get("clean") or next(iter(ev["conditions"].values())))[
            "per_source"
        ].items():
            metrics = []
            for cond, c in ev["conditions"].items():
                s = c["per_source"][source]
                if s["wer"] is not None:
                    metrics.append(
                        {"type": "wer", "value": round(100 * s["wer"], 2), "name": f"WER ({cond})"}
                    )
                    metrics.append(
                        {"type": "cer", "value": round(100 * s["cer"], 2), "name": f"CER ({cond})"}
                    )
            results.append(
                {
                    "task": {"type": "automatic-speech-recognition", "name": "Automatic Speech Recognition"},
                    "dataset": {"name": source, "type": source, "split": ev["split"]},
                    "metrics": metrics,
                }
            )
    front = {
        "language": sorted({hf_lang, "fr"} if hf_lang != "fr" else {"fr"}),
        "license": licence,
        "library_name": "ctranslate2",
        "pipeline_tag": "automatic-speech-recognition",
        "tags": ["whisper", "faster-whisper", "ctranslate2", "teranga-voice", code],
        "base_model": info.get("base_model"),
        "model-index": [{"name": name, "results": results}],
    }
    strategy = lang.get("token_strategy", "native")
    token = f"<|{lang.get('whisper_language', '?')}|>"
    token_text = {
        "new": f"a new token {token} (id {lang.get('token_id')}), inserted after the last Whisper language "
        f"token and initialised from <|{lang.get('token_source')}|>; ids from <|translate|> on moved up "
        "by one, as in Whisper large-v3",
        "reuse": f"the existing token {token}, reused for this language",
        "native": f"Whisper's own token {token}",
    }[strategy]
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# {name}",
        "",
        f"Whisper fine-tuned for **{pack.name if pack else code}** (`{code}`) by teranga-voice, exported "
        f"to CTranslate2 ({info.get('export', {}).get('quantization', '?')}) for faster-whisper.",
        "",
        "## Language token",
        "",
        f"Decodes with {token_text}. `voice-asr.json` records the choice; teranga-voice's recognizer "
        "reads it, so `voice transcribe --lang " + code + " --model DIR` decodes the way the model was "
        "trained. Plain faster-whisper accepts only its built-in language codes: register the new code "
        "first (`voice.asr.faster.register_languages(Path(DIR), model.hf_tokenizer)`).",
        "",
        "## Training",
        "",
        f"Base: `{info.get('base_model')}`; method: {info.get('method')}; target text: "
        f"{info.get('target')} (normaliser {info.get('normaliser')}); "
        f"{train.get('hours', 0):.2f} h, {train.get('utterances', 0)} utterances, "
        f"{train.get('speakers', 0)} speakers.",
        "",
        "| source | hours | utterances | licence |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {s} | {v['hours']:.2f} | {v['utterances']} | {v['licence']} |" for s, v in sources.items()]
    t = info.get("training", {})
    if t:
        lines += [
            "",
            f"{t.get('steps')} steps, {t.get('epochs')} epochs, effective batch {t.get('batch_size')}, "
            f"learning rate {t.get('learning_rate')}, on {t.get('device')} in {t.get('runtime_s')} s; "
            f"SpecAugment and telephone-channel augmentation as in `voice-asr.json`.",
        ]
    lines += ["", "## Evaluation", ""]
    if evals:
        lines += ["| test set | condition | utterances | WER % | CER % |", "|---|---|---:|---:|---:|"]
        for ev in evals:
            for cond, c in ev["conditions"].items():
                w = "-" if c["wer"] is None else f"{100 * c['wer']:.1f}"
                ce = "-" if c["cer"] is None else f"{100 * c['cer']:.1f}"
                lines.append(f"| {ev['test_set']} | {cond} | {c['utterances']} | {w} | {ce} |")
        lines += [
            "",
            "Scores after the language pack's normaliser ("
            + ", ".join(sorted({n for ev in evals for n in ev["normalisers"]}))
            + "); telephone = 8 kHz, 300-3400 Hz, "
            "mu-law, line noise (`voice asr eval`).",
        ]
    else:
        lines.append(
            "No evaluation was attached to this export: run `voice asr eval` and export again with `--eval`."
        )
    lines += [
        "",
        "## Licence and attribution",
        "",
        f"Weights: {licence}. Base model: {WHISPER_LICENCE}. Training data licences are listed above; "
        "a model trained on Kallaama must credit it (CC-BY 4.0): Gauthier, Ndiaye, Guissé, RAIL 2024; "
        "Jokalante, Orange Innovation, École Polytechnique de Thiès."
        if "kallaama" in sources
        else f"Weights: {licence}. Base model: {WHISPER_LICENCE}.",
    ]
    unlicensed = [
        s for s, v in sources.items() if str(v.get("licence", "")).lower() in ("unknown", "unspecified")
    ]
    if unlicensed:
        lines.append(f"\n**Check before publishing:** no licence is known for {', '.join(unlicensed)}.")
    return "\n".join(lines) + "\n"


def export_model(
    model_dir: str | Path,
    out_dir: str | Path,
    quantization: str = "int8",
    evals: list[str | Path] = (),
    name: str | None = None,
    licence: str | None = None,
) -> Path:
    if quantization not in QUANTIZATIONS:
        raise BadInputError(f"quantization {quantization!r}: choose one of {', '.join(QUANTIZATIONS)}")
    out_dir = Path(out_dir)
    to_ct2(model_dir, out_dir, quantization)
    info = _read_info(out_dir)
    summaries = [eval_summary(e) for e in evals]
    info["eval"] = summaries
    name = name or info.get("name") or Path(model_dir).name
    info["name"] = name
    licence = licence or _default_licence(info)
    info["licence"] = licence
    (out_dir / MODEL_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8")
    (out_dir / "README.md").write_text(model_card(out_dir, info, summaries, licence, name), encoding="utf-8")
    return out_dir


def pack_fragment(export_dir: str | Path, artifact_name: str = "asr-edge", tier: str = "edge") -> dict:
    """Manifest pieces for a pack that bundles this export (validated against the pack schema).

    {"artifact": {...name, kind, path, sha256, size, licence, source, note},
     "asr": {"whisper_language", "token_strategy", "token_source", "tiers": {tier: {...}}},
     "eval": [{"test_set", "metric", "value", "normaliser_version", "model", "note"}, ...]}
    """
    from voice.packs.manifest import Artifact, ASRConfig, EvalResult
    from voice.packs.verify import tree_digest

    export_dir = Path(export_dir)
    info = _read_info(export_dir)
    if not (export_dir / "model.bin").exists() or not info:
        raise BadInputError(
            f"{export_dir}: not a `voice asr export` dir (model.bin and {MODEL_INFO} expected)"
        )
    hidden = [p for p in export_dir.rglob(".*")]
    if hidden:
        raise BadInputError(f"{export_dir}: hidden files {hidden[:3]} would not be bundled; remove them")
    sha, size = tree_digest(export_dir)
    lang = info["languages"][0]
    sources = ", ".join(sorted(info.get("data", {}).get("train", {}).get("sources", {}))) or "?"
    quant = info.get("export", {}).get("quantization", "?")
    artifact = Artifact(
        name=artifact_name,
        kind="asr-model",
        path=f"models/{artifact_name}",
        sha256=sha,
        size=size,
        licence=info.get("licence") or _default_licence(info),
        source=f"{info.get('base_model')} fine-tuned by teranga-voice on {sources} ({info.get('method')}), "
        f"exported with voice asr export",
        note=f"CTranslate2 {quant}; language token {lang['token_strategy']} <|{lang['whisper_language']}|>"
        + (f" from <|{lang['token_source']}|>" if lang.get("token_source") else ""),
    )
    asr = ASRConfig(
        whisper_language=lang["whisper_language"],
        token_strategy=lang["token_strategy"],
        token_source=lang.get("token_source"),
        tiers={
            tier: {
                "model": f"artifact:{artifact_name}",
                "engine": "faster-whisper",
                "note": f"{info.get('name')} ({quant}); see the model card in the artifact",
            }
        },
    )
    normaliser_version = str(info.get("normaliser", "?@1")).rsplit("@", 1)[-1]
    evals = []
    for ev in info.get("eval", []):
        for cond, c in ev["conditions"].items():
            suffix = "" if cond == "clean" else f"-{cond}"
            for metric in ("wer", "cer"):
                if c.get(metric) is not None:
                    evals.append(
                        EvalResult(
                            test_set=ev["test_set"],
                            metric=f"{metric}{suffix}",
                            value=c[metric],
                            normaliser_version=normaliser_version,
                            model=info.get("name"),
                            note=f"{c['utterances']} utterances, {c['hours']:.2f} h; "
                            f"{ev['decoded_with']['engine']} {ev['decoded_with']['compute_type']} "
                            f"beam {ev['decoded_with']['beam_size']}",
                        )
                    )
    return {
        "artifact": artifact.model_dump(exclude_none=True),
        "asr": asr.model_dump(exclude_none=True),
        "eval": [e.model_dump(exclude_none=True) for e in evals],
    }
