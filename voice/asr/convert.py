"""Convert Whisper checkpoints between the three runtimes' formats.

transformers dir -> CTranslate2 dir (faster-whisper) with ctranslate2's own converter;
transformers dir -> openai-whisper `.pt` by renaming weights (same architecture, other names).
"""

from __future__ import annotations

import re
from pathlib import Path

from voice.errors import ModelError

_HF_TO_OPENAI = [
    (r"^model\.encoder\.embed_positions\.weight$", "encoder.positional_embedding"),
    (r"^model\.decoder\.embed_positions\.weight$", "decoder.positional_embedding"),
    (r"^model\.decoder\.embed_tokens\.weight$", "decoder.token_embedding.weight"),
    (r"^model\.encoder\.layer_norm\.", "encoder.ln_post."),
    (r"^model\.decoder\.layer_norm\.", "decoder.ln."),
    (r"^model\.(encoder|decoder)\.conv", r"\1.conv"),
    (r"^model\.(encoder|decoder)\.layers\.(\d+)\.", r"\1.blocks.\2."),
    (r"\.self_attn_layer_norm\.", ".attn_ln."),
    (r"\.encoder_attn_layer_norm\.", ".cross_attn_ln."),
    (r"\.final_layer_norm\.", ".mlp_ln."),
    (r"\.self_attn\.", ".attn."),
    (r"\.encoder_attn\.", ".cross_attn."),
    (r"\.q_proj\.", ".query."),
    (r"\.k_proj\.", ".key."),
    (r"\.v_proj\.", ".value."),
    (r"\.out_proj\.", ".out."),
    (r"\.fc1\.", ".mlp.0."),
    (r"\.fc2\.", ".mlp.2."),
]


def openai_name(hf_name: str) -> str | None:
    if hf_name == "proj_out.weight":
        return None  # tied to the token embedding in openai-whisper
    name = hf_name
    for pattern, repl in _HF_TO_OPENAI:
        name = re.sub(pattern, repl, name)
    return name


def hf_to_openai(hf_dir: str | Path, out_file: str | Path) -> Path:
    """Write an openai-whisper checkpoint ({"dims", "model_state_dict"}) from a transformers dir."""
    import torch
    from transformers import WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration.from_pretrained(str(hf_dir))
    c = model.config
    dims = {
        "n_mels": c.num_mel_bins,
        "n_vocab": c.vocab_size,
        "n_audio_ctx": c.max_source_positions,
        "n_audio_state": c.d_model,
        "n_audio_head": c.encoder_attention_heads,
        "n_audio_layer": c.encoder_layers,
        "n_text_ctx": c.max_target_positions,
        "n_text_state": c.d_model,
        "n_text_head": c.decoder_attention_heads,
        "n_text_layer": c.decoder_layers,
    }
    state = {}
    for name, tensor in model.state_dict().items():
        target = openai_name(name)
        if target is not None:
            state[target] = tensor.detach().clone()
    out_file = Path(out_file)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": dims, "model_state_dict": state}, out_file)
    return out_file


def hf_to_ct2(hf_dir: str | Path, out_dir: str | Path, quantization: str | None = None) -> Path:
    """CTranslate2 conversion (int8, float16, int8_float16 or None for float32)."""
    from ctranslate2.converters import TransformersConverter

    hf_dir, out_dir = Path(hf_dir), Path(out_dir)
    copy = [f for f in ("tokenizer.json", "preprocessor_config.json") if (hf_dir / f).exists()]
    if "tokenizer.json" not in copy:
        raise ModelError(f"{hf_dir}: tokenizer.json is needed by faster-whisper; save a fast tokenizer there")
    TransformersConverter(str(hf_dir), copy_files=copy).convert(
        str(out_dir), quantization=quantization, force=True
    )
    return out_dir
