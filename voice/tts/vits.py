"""VITS through transformers (`VitsModel`), from any local dir of that architecture (as MMS-TTS ships)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voice.audio import Audio
from voice.errors import ModelError
from voice.tts.base import TTSEngine


class VitsEngine(TTSEngine):
    name = "vits"

    def __init__(self, model_dir: str | Path, threads: int = 2, seed: int = 0):
        model_dir = Path(model_dir)
        if not (model_dir / "config.json").exists():
            raise ModelError(f"{model_dir}: not a VITS model dir (config.json missing)")
        try:
            import torch
            from transformers import AutoTokenizer, VitsModel
        except ImportError as exc:
            raise ModelError("VITS needs `pip install torch==2.13.0 'teranga-voice[transformers]'`") from exc
        torch.set_num_threads(threads)
        try:
            self._model = VitsModel.from_pretrained(str(model_dir)).eval()
            self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        except Exception as exc:
            raise ModelError(f"cannot load VITS model from {model_dir}: {exc}") from exc
        self._torch = torch
        self._seed = seed
        self.sample_rate = int(self._model.config.sampling_rate)
        self.model_dir = model_dir

    def synthesize_sentence(self, text: str, voice: str | None = None) -> Audio:
        inputs = self._tokenizer(text, return_tensors="pt")
        if inputs["input_ids"].shape[-1] == 0:
            return Audio(np.zeros(0, dtype=np.float32), self.sample_rate)
        # VITS samples noise in its duration predictor and flow: a fixed seed makes speech repeatable.
        self._torch.manual_seed(self._seed)
        with self._torch.no_grad():
            waveform = self._model(**inputs).waveform[0]
        return Audio(waveform.float().numpy(), self.sample_rate)
