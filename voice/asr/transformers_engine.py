"""transformers Whisper (`WhisperForConditionalGeneration`) from a local model dir."""

from __future__ import annotations

import numpy as np

from voice.asr.engine import SAMPLE_RATE, ASREngine, DecodeOptions, RawResult
from voice.asr.models import HF, ResolvedModel
from voice.asr.types import Segment
from voice.asr.windows import speech_windows
from voice.errors import ModelError


class TransformersEngine(ASREngine):
    name = "transformers"

    def __init__(self, model: ResolvedModel, threads: int = 2):
        super().__init__(model, threads)
        if model.format != HF:
            raise ModelError(
                f"the transformers engine needs a Whisper model dir; {model.path} is {model.format}"
            )
        try:
            import torch
            from transformers import WhisperForConditionalGeneration, WhisperProcessor
        except ImportError as exc:
            raise ModelError(
                "the transformers engine needs `pip install torch==2.13.0 'teranga-voice[transformers]'`"
            ) from exc
        torch.set_num_threads(threads)
        try:
            self._processor = WhisperProcessor.from_pretrained(str(model.path))
            self._model = WhisperForConditionalGeneration.from_pretrained(str(model.path)).eval()
        except Exception as exc:
            raise ModelError(f"transformers cannot load {model.path}: {exc}") from exc
        self._torch = torch
        tok = self._processor.tokenizer
        self._no_speech_id = next(
            (
                i
                for t in ("<|nospeech|>", "<|nocaptions|>")
                if (i := tok.convert_tokens_to_ids(t)) != tok.unk_token_id
            ),
            None,
        )

    def _features(self, samples: np.ndarray):
        return self._processor(samples, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features

    def detect_language(self, features) -> tuple[str, float | None]:
        with self._torch.no_grad():
            lang_ids = self._model.detect_language(features)
        token = self._processor.tokenizer.convert_ids_to_tokens(int(lang_ids[0]))
        return token.strip("<|>"), None

    def _score(self, features, language: str, tokens: list[int]) -> tuple[float, list[float]]:
        """No-speech probability and each token's log-probability, from one teacher-forced pass."""
        torch = self._torch
        gen = self._model.generation_config
        prompt = [gen.decoder_start_token_id, gen.lang_to_id[f"<|{language}|>"], gen.task_to_id["transcribe"]]
        with torch.no_grad():
            logits = self._model(
                input_features=features, decoder_input_ids=torch.tensor([prompt + tokens])
            ).logits
        logp = logits[0].float().log_softmax(-1)
        no_speech = float(logp[0, self._no_speech_id].exp()) if self._no_speech_id is not None else 0.0
        positions = range(len(prompt) - 1, len(prompt) - 1 + len(tokens))
        return no_speech, [float(logp[i, t]) for i, t in zip(positions, tokens, strict=True)]

    def decode(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        from voice.asr.guards import GuardOptions, speech_regions

        regions = speech_regions(samples, GuardOptions()) if len(samples) > 30 * SAMPLE_RATE else None
        segments: list[Segment] = []
        detected = language
        for start, end in speech_windows(len(samples), regions):
            features = self._features(samples[start:end])
            if detected is None:
                detected, _ = self.detect_language(features)
            segments.extend(self._decode_window(features, detected, options, start / SAMPLE_RATE))
        return RawResult(segments, detected)

    def _decode_window(self, features, language: str, options: DecodeOptions, offset: float) -> list[Segment]:
        with self._torch.no_grad():
            out = self._model.generate(
                features,
                language=language,
                task="transcribe",
                return_timestamps=True,
                return_segments=True,
                return_dict_in_generate=True,
                num_beams=options.beam_size,
            )
        tok = self._processor.tokenizer
        eot = tok.convert_tokens_to_ids("<|endoftext|>")
        segs = out["segments"][0]
        sequence = [int(t) for seg in segs for t in seg["tokens"]]
        no_speech, token_logp = self._score(features, language, sequence)
        segments, cursor = [], 0
        for seg in segs:
            tokens = [int(t) for t in seg["tokens"]]
            logp = token_logp[cursor : cursor + len(tokens)]
            cursor += len(tokens)
            text = tok.decode([t for t in tokens if t < eot], skip_special_tokens=True).strip()
            avg = sum(logp) / len(logp) if logp else 0.0
            segments.append(
                Segment(offset + float(seg["start"]), offset + float(seg["end"]), text, no_speech, avg)
            )
        return segments

    def greedy_tokens(
        self, samples: np.ndarray, language: str, max_new_tokens: int, force_length: bool = False
    ) -> list[int]:
        tok = self._processor.tokenizer
        eot = tok.convert_tokens_to_ids("<|endoftext|>")
        extra = {"min_new_tokens": max_new_tokens} if force_length else {}
        with self._torch.no_grad():
            out = self._model.generate(
                self._features(samples[: 30 * SAMPLE_RATE]),
                language=language,
                task="transcribe",
                return_timestamps=False,
                num_beams=1,
                do_sample=False,
                max_new_tokens=max_new_tokens,
                **extra,
            )
        # Special tokens (the prompt, whichever way this transformers version returns it) sort above eot.
        return [int(t) for t in out[0] if int(t) < eot][:max_new_tokens]
