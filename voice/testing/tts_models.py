"""Test fixture: a random-init VITS of the real architecture (as MMS-TTS ships), for tests and
benchmarks.

MMS-TTS weights cannot be fetched here (and are CC-BY-NC); this builds a `VitsModel` dir with a
character vocabulary so the VITS engine's whole path runs for real. It speaks noise, not words.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

CHARACTERS = list(" abcdefghijklmnopqrstuvwxyzàéèëñóŋ'-.,?!")


def build_random_vits(out_dir: str | Path, seed: int = 0, sampling_rate: int = 16000) -> Path:
    import torch
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    vocab = {c: i for i, c in enumerate(["<pad>", *CHARACTERS])}
    (tmp / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    tokenizer = VitsTokenizer(
        str(tmp / "vocab.json"),
        pad_token="<pad>",
        unk_token="<pad>",
        add_blank=True,
        normalize=True,
        phonemize=False,
    )
    config = VitsConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        ffn_dim=64,
        flow_size=32,
        spectrogram_bins=65,
        upsample_initial_channel=32,
        upsample_rates=[8, 8, 4],
        upsample_kernel_sizes=[16, 16, 8],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        prior_encoder_num_flows=2,
        prior_encoder_num_wavenet_layers=2,
        duration_predictor_num_flows=2,
        duration_predictor_filter_channels=32,
        sampling_rate=sampling_rate,
    )
    torch.manual_seed(seed)
    VitsModel(config).eval().save_pretrained(str(tmp))
    tokenizer.save_pretrained(str(tmp))
    shutil.rmtree(out_dir, ignore_errors=True)
    tmp.rename(out_dir)
    return out_dir
