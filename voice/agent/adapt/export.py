"""Ship an adapter: merge it into its base (a plain transformers checkpoint), convert that to GGUF
for llama.cpp (llama.cpp's own converter, as voice/agent/tiny.py does), and describe it for a
language pack (`pack_fragment`, what `voice packs build --bundle-models` adds to the manifest).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path

from voice.agent.adapt.train import ADAPTER_INFO, device_and_dtype, load_base, read_adapter_info
from voice.errors import BadInputError

log = logging.getLogger(__name__)
EVAL_FILE = "voice-eval.json"  # eval results `voice agent eval --adapter` leaves in the adapter dir
GGUF_TYPES = ("f32", "f16", "bf16", "q8_0")


def merge_adapter(
    adapter: str | Path, out_dir: str | Path, base_model: str | None = None, dtype: str = "auto"
) -> Path:
    """base + LoRA -> one transformers checkpoint (weights merged, tokenizer copied)."""
    from peft import PeftModel
    from transformers import AutoTokenizer

    adapter = Path(adapter)
    info = read_adapter_info(adapter)
    base = base_model or info["base_model"]
    device, precision, torch_dtype = device_and_dtype("fp32" if dtype == "auto" and not _cuda() else dtype)
    model, _ = load_base(base, torch_dtype, device, for_training=False)
    model = PeftModel.from_pretrained(model, str(adapter))
    merged = model.merge_and_unload()
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.config.use_cache = True  # (an MXFP4 base was dequantized at load: plain tensors now)
    merged.save_pretrained(str(tmp), safe_serialization=True)
    AutoTokenizer.from_pretrained(base).save_pretrained(str(tmp))
    (tmp / "voice-merged.json").write_text(
        json.dumps(
            {"base_model": base, "adapter": str(adapter), "precision": precision, "adapter_info": info},
            indent=2,
        )
    )
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def export_gguf(
    adapter: str | Path,
    out_file: str | Path,
    base_model: str | None = None,
    outtype: str = "f16",
    keep_merged: Path | None = None,
) -> Path:
    """Merge, then llama.cpp's convert_hf_to_gguf.py (the version llama-cpp-python pins)."""
    from voice.agent.gguf import convert_hf_to_gguf

    if outtype not in GGUF_TYPES:
        raise BadInputError(f"GGUF type {outtype!r}: choose one of {', '.join(GGUF_TYPES)}")
    out_file = Path(out_file)
    with tempfile.TemporaryDirectory(prefix="voice-merge-") as tmp:
        merged = merge_adapter(adapter, keep_merged or Path(tmp) / "merged", base_model)
        convert_hf_to_gguf(merged, out_file, outtype=outtype)
    return out_file


def pack_fragment(adapter_dir: str | Path, artifact_name: str = "llm-adapter") -> dict:
    """Manifest pieces for a pack that bundles this adapter (validated against the pack schema):

    {"artifact": {name, kind: llm-adapter, path, sha256, size, licence, source, note},
     "llm": {"model": <base>, "adapter": <artifact name>},
     "eval": [{test_set, metric, value, normaliser_version, model, note}, ...]}
    """
    from voice.packs.manifest import Artifact, EvalResult, LLMConfig
    from voice.packs.verify import tree_digest

    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_config.json").exists():
        raise BadInputError(f"{adapter_dir}: not a LoRA adapter dir (adapter_config.json missing)")
    info = read_adapter_info(adapter_dir)
    hidden = [p for p in adapter_dir.rglob(".*")]
    if hidden:
        raise BadInputError(f"{adapter_dir}: hidden files {hidden[:3]} would not be bundled; remove them")
    sha, size = tree_digest(adapter_dir)
    lora = info["lora"]
    base = info.get("base_model_id") or Path(info["base_model"]).name
    artifact = Artifact(
        name=artifact_name,
        kind="llm-adapter",
        path=f"models/{artifact_name}",
        sha256=sha,
        size=size,
        licence=info.get("licence") or "Apache-2.0",
        source=f"LoRA on {base} trained by teranga-voice (voice agent finetune) on voice agent data "
        f"{info['data']['fingerprint']} ({info['language']})",
        note=f"PEFT LoRA r={lora['r']} alpha={lora['alpha']} on {lora['target_modules']}"
        + (f" + {len(lora['target_parameters'])} expert weights" if lora.get("target_parameters") else "")
        + f"; {info['training']['steps']} steps; dev loss {_loss(info['eval_loss']['before'])} -> "
        f"{_loss(info['eval_loss']['after'])}",
    )
    llm = LLMConfig(model=base, adapter=artifact_name)
    evals = [EvalResult.model_validate(e) for e in read_eval(adapter_dir)]
    return {
        "artifact": artifact.model_dump(exclude_none=True),
        "llm": llm.model_dump(exclude_none=True),
        "eval": [e.model_dump(exclude_none=True) for e in evals],
    }


def _loss(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def read_eval(adapter_dir: Path) -> list[dict]:
    path = Path(adapter_dir) / EVAL_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def save_eval(adapter_dir: str | Path, entries: list[dict]) -> Path:
    """Keep an adapter's eval results next to it (pack_fragment reads them); same keys replaced."""
    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / ADAPTER_INFO).exists():
        raise BadInputError(f"{adapter_dir}: not a `voice agent finetune` adapter")
    keys = {(e["test_set"], e["metric"]) for e in entries}
    kept = [e for e in read_eval(adapter_dir) if (e["test_set"], e["metric"]) not in keys]
    path = adapter_dir / EVAL_FILE
    path.write_text(json.dumps(kept + entries, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
