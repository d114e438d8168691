"""faster-whisper (CTranslate2): the default engine, int8 on CPU."""

from __future__ import annotations

import json

import numpy as np

from voice.asr.engine import ASREngine, DecodeOptions, RawResult
from voice.asr.models import CT2, ResolvedModel
from voice.asr.types import Segment
from voice.errors import ModelError

N_FRAMES = 3000  # 30 s of 10 ms mel frames
HOP = 160


class FasterWhisperEngine(ASREngine):
    name = "faster-whisper"

    def __init__(self, model: ResolvedModel, threads: int = 2, compute_type: str = "int8"):
        super().__init__(model, threads)
        if model.format != CT2:
            raise ModelError(f"faster-whisper needs a CTranslate2 model dir; {model.path} is {model.format}")
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(
                str(model.path), device="cpu", compute_type=compute_type, cpu_threads=threads
            )
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError on bad files
            raise ModelError(f"faster-whisper cannot load {model.path}: {exc}") from exc
        self.compute_type = compute_type
        self.extra_languages = register_languages(model.path, self._model.hf_tokenizer)

    @property
    def whisper_model(self):
        return self._model

    def decode(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        segments, info = self._model.transcribe(
            samples,
            language=language,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            no_speech_threshold=options.no_speech_threshold,
            log_prob_threshold=options.log_prob_threshold,
            compression_ratio_threshold=options.compression_ratio_threshold,
            condition_on_previous_text=False,
            vad_filter=False,  # our own gate runs first, the same for every engine
        )
        out = [
            Segment(s.start, s.end, s.text.strip(), s.no_speech_prob, s.avg_logprob, s.compression_ratio)
            for s in segments
        ]
        return RawResult(out, info.language, info.language_probability)

    def greedy_tokens(
        self, samples: np.ndarray, language: str, max_new_tokens: int, force_length: bool = False
    ) -> list[int]:
        from faster_whisper.tokenizer import Tokenizer

        m = self._model
        # Pad the audio (not the features) to 30 s, as Whisper does: log-mel of silence is not 0.
        window = samples[: N_FRAMES * HOP]
        window = np.pad(window, (0, N_FRAMES * HOP - len(window)))
        features = m.feature_extractor(window)[:, :N_FRAMES]
        encoded = m.encode(features)
        tokenizer = Tokenizer(m.hf_tokenizer, m.model.is_multilingual, task="transcribe", language=language)
        prompt = list(tokenizer.sot_sequence) + [tokenizer.no_timestamps]
        suppress = [-1] + ([tokenizer.eot] if force_length else [])
        result = m.model.generate(
            encoded,
            [prompt],
            beam_size=1,
            # CTranslate2 4.x stops at about half of max_length here (measured); ask for twice the
            # tokens and truncate, so exactly `max_new_tokens` come back when forced.
            max_length=2 * (len(prompt) + max_new_tokens),
            suppress_blank=True,
            suppress_tokens=suppress,
        )
        return [t for t in result[0].sequences_ids[0] if t < tokenizer.eot][:max_new_tokens]


def register_languages(model_dir, hf_tokenizer) -> list[str]:
    """Let faster-whisper decode with language tokens it does not list, e.g. a fine-tune's new <|wo|>.

    faster-whisper checks codes against its fixed `_LANGUAGE_CODES`; CTranslate2 itself takes any
    token in the model's `lang_ids` (config.json), which is where an added token is declared. The
    codes found there are appended to faster-whisper's list (process-wide, additive, idempotent).
    """
    import faster_whisper.tokenizer as fw_tokenizer
    import faster_whisper.transcribe as fw_transcribe

    try:
        lang_ids = json.loads((model_dir / "config.json").read_text()).get("lang_ids") or []
    except (OSError, ValueError):
        return []
    codes = []
    for i in lang_ids:
        token = hf_tokenizer.id_to_token(int(i)) or ""
        if token.startswith("<|") and token.endswith("|>"):
            codes.append(token[2:-2])
    extra = [c for c in codes if c not in fw_tokenizer._LANGUAGE_CODES]
    if extra:
        fw_tokenizer._LANGUAGE_CODES = (*fw_tokenizer._LANGUAGE_CODES, *extra)
        fw_transcribe._LANGUAGE_CODES = fw_tokenizer._LANGUAGE_CODES
    return extra
