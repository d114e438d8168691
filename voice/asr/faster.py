"""faster-whisper (CTranslate2): the default engine, int8 on CPU."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import numpy as np

from voice.asr import short
from voice.asr.engine import SAMPLE_RATE, ASREngine, DecodeOptions, RawResult
from voice.asr.models import CT2, ResolvedModel
from voice.asr.types import Segment
from voice.errors import ModelError

log = logging.getLogger(__name__)
N_FRAMES = 3000  # 30 s of 10 ms mel frames
HOP = 160
MAX_BATCH = 16  # utterances per encode + generate call (at most 16 x 30 s of mel in memory)


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
        self._tokenizers: dict[str, object] = {}

    @property
    def whisper_model(self):
        return self._model

    def decode(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        return self.decode_many([(samples, language)], options)[0]

    def decode_iter(
        self, items: list[tuple[np.ndarray, str | None]], options: DecodeOptions
    ) -> Iterator[tuple[int, RawResult]]:
        """Utterances <= 30 s with a known language in short windows, batched; the rest in full.

        Short-window results come first, one batch per window size, so an utterance decodes the
        same alone or in a batch; then whatever needs the full window (long audio, language
        detection, short decodes that looked looped or unsure), one at a time. Safe to call from
        several threads: nothing is mutated but a tokenizer cache, and CTranslate2 queues
        concurrent calls on its model.
        """
        wopts = _window_options(options)
        groups: dict[int, list[int]] = {}  # window size -> utterances
        for i, (samples, language) in enumerate(items):
            if options.window == "utterance" and language and short.fits(len(samples)):
                groups.setdefault(short.window_samples(len(samples), wopts), []).append(i)
        in_short = {i for g in groups.values() for i in g}
        full = [i for i in range(len(items)) if i not in in_short]
        for window, indices in groups.items():
            for k in range(0, len(indices), MAX_BATCH):
                chunk = indices[k : k + MAX_BATCH]
                tokenizers = [self._tokenizer(items[i][1]) for i in chunk]
                decodes = short.decode_batch(
                    self._model, tokenizers, [items[i][0] for i in chunk], window, wopts
                )
                for i, d in zip(chunk, decodes, strict=True):
                    raw = self._short_result(items[i], d, window, options)
                    if raw is None:
                        full.append(i)
                    else:
                        yield i, raw
        for i in full:
            yield i, self._decode_full(*items[i], options)

    def _short_result(
        self, item: tuple[np.ndarray, str | None], d: short.ShortDecode, window: int, options: DecodeOptions
    ) -> RawResult | None:
        """The short decode as one segment, or None when it must be redone in the full window."""
        why = short.needs_full_window(
            d, options.no_speech_threshold, options.log_prob_threshold, options.compression_ratio_threshold
        )
        if why:
            log.debug(
                "short window %.0f s: %s (%r); decoding in the full window", window / SAMPLE_RATE, why, d.text
            )
            return None
        samples, language = item
        segment = Segment(
            0.0, len(samples) / SAMPLE_RATE, d.text, d.no_speech_prob, d.avg_logprob, d.compression_ratio
        )
        return RawResult([segment], language, 1.0, extra={"window_s": window / SAMPLE_RATE})

    def _tokenizer(self, language: str):
        from faster_whisper.tokenizer import Tokenizer

        if language not in self._tokenizers:
            m = self._model
            self._tokenizers[language] = Tokenizer(
                m.hf_tokenizer, m.model.is_multilingual, task="transcribe", language=language
            )
        return self._tokenizers[language]

    def _decode_full(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        """faster-whisper's own transcribe: 30 s windows, beam search, temperature fallback."""
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


def _window_options(options: DecodeOptions) -> short.WindowOptions:
    return short.WindowOptions(
        step_s=options.window_step_s,
        beam_size=options.beam_size,
        tokens_per_s=options.max_tokens_per_s,
        repetition_penalty=options.repetition_penalty,
    )


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
