"""openai-whisper (PyTorch reference implementation), from a `.pt` checkpoint."""

from __future__ import annotations

import numpy as np

from voice.asr.engine import ASREngine, DecodeOptions, RawResult
from voice.asr.models import OPENAI, ResolvedModel
from voice.asr.types import Segment
from voice.errors import ModelError


class OpenAIWhisperEngine(ASREngine):
    name = "openai-whisper"

    def __init__(self, model: ResolvedModel, threads: int = 2):
        super().__init__(model, threads)
        if model.format != OPENAI:
            raise ModelError(f"openai-whisper needs a .pt checkpoint; {model.path} is {model.format}")
        try:
            import torch
            import whisper
        except ImportError as exc:
            raise ModelError(
                "the openai-whisper engine needs `pip install torch==2.13.0 'teranga-voice[openai-whisper]'`"
            ) from exc
        torch.set_num_threads(threads)
        try:
            self._model = whisper.load_model(str(model.path), device="cpu")
        except Exception as exc:
            raise ModelError(f"openai-whisper cannot load {model.path}: {exc}") from exc
        self._whisper = whisper

    def decode(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        result = self._model.transcribe(
            samples,
            language=language,
            beam_size=options.beam_size if options.beam_size > 1 else None,
            best_of=options.beam_size if options.beam_size > 1 else None,
            temperature=options.temperatures,
            no_speech_threshold=options.no_speech_threshold,
            logprob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            condition_on_previous_text=False,
            fp16=False,
            verbose=None,
        )
        segments = [
            Segment(
                float(s["start"]),
                float(s["end"]),
                s["text"].strip(),
                float(s["no_speech_prob"]),
                float(s["avg_logprob"]),
                float(s["compression_ratio"]),
            )
            for s in result["segments"]
        ]
        return RawResult(segments, result.get("language"))

    def greedy_tokens(
        self, samples: np.ndarray, language: str, max_new_tokens: int, force_length: bool = False
    ) -> list[int]:
        w = self._whisper
        mel = w.log_mel_spectrogram(w.pad_or_trim(samples.astype(np.float32)), n_mels=self._model.dims.n_mels)
        tokenizer = w.tokenizer.get_tokenizer(
            self._model.is_multilingual,
            num_languages=self._model.num_languages,
            language=language,
            task="transcribe",
        )
        suppress = [-1] + ([tokenizer.eot] if force_length else [])
        options = w.DecodingOptions(
            language=language,
            task="transcribe",
            temperature=0.0,
            sample_len=max_new_tokens,
            without_timestamps=True,
            suppress_tokens=suppress,
            suppress_blank=True,
            fp16=False,
        )
        result = w.decode(self._model, mel, options)
        return [t for t in result.tokens if t < tokenizer.eot][:max_new_tokens]
