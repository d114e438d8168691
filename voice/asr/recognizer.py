"""The ASR interface the rest of the system uses: transcribe(audio, language) -> Transcript.

Language codes are the packs' (ISO 639-3, BCP-47 or alias); the pack says which Whisper
language token to use (its own, or a reused one for languages Whisper lacks). Plain Whisper
codes work too when no pack claims them. Guards run around every engine the same way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voice.asr.engine import SAMPLE_RATE, ASREngine, DecodeOptions, RawResult
from voice.asr.guards import GuardOptions, filter_segments, mute_outside, speech_regions
from voice.asr.models import ResolvedModel, resolve_model
from voice.asr.types import Transcript
from voice.audio import Audio
from voice.config import ASRSettings, get_settings
from voice.errors import BadInputError, ModelNotFoundError, UnknownLanguageError
from voice.packs import find_pack, pack_for_whisper_language

log = logging.getLogger(__name__)
ENGINES = ("faster-whisper", "openai-whisper", "transformers")
DEFAULT_ENGINE = "faster-whisper"
UNAVAILABLE_RETRY_S = 600.0
_unavailable: dict[str, float] = {}  # model spec -> monotonic time before which we do not retry
AUTO = ("auto", "", None)


def create_engine(name: str, model: ResolvedModel, settings: ASRSettings) -> ASREngine:
    if name == "faster-whisper":
        from voice.asr.faster import FasterWhisperEngine

        return FasterWhisperEngine(model, settings.threads, settings.compute_type)
    if name == "openai-whisper":
        from voice.asr.openai_engine import OpenAIWhisperEngine

        return OpenAIWhisperEngine(model, settings.threads)
    if name == "transformers":
        from voice.asr.transformers_engine import TransformersEngine

        return TransformersEngine(model, settings.threads)
    raise BadInputError(f"unknown ASR engine {name!r}; choose one of {', '.join(ENGINES)}")


def _whisper_codes() -> frozenset[str]:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    return frozenset(_LANGUAGE_CODES)


MODEL_LANGUAGES_FILE = "voice-asr.json"  # written by `voice asr finetune` / `voice asr export`


def _model_info(model: ResolvedModel) -> dict:
    path = model.path / MODEL_LANGUAGES_FILE if model.path.is_dir() else None
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable %s: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def model_languages(model: ResolvedModel) -> dict[str, str]:
    """Pack code -> Whisper code the model was fine-tuned to decode with (its voice-asr.json).

    A fine-tune's token choice (a new `<|wo|>`, or a reused `<|fr|>`) beats the pack's default, so a
    model is always decoded the way it was trained.
    """
    return {
        str(e["language"]): str(e["whisper_language"])
        for e in _model_info(model).get("languages", [])
        if e.get("language") and e.get("whisper_language")
    }


def model_window(model: ResolvedModel, configured: str) -> str:
    """The decoding window for this model: `configured`, except for fine-tunes made here.

    `voice asr finetune` trains on 30 s windows and `voice asr export` evaluates in them, so such a
    model (it has a voice-asr.json) keeps the full window unless that file says `"window":
    "utterance"`: the short window was measured on stock Whisper weights only, and a small
    fine-tune can misread a short window entirely (the tiny test fine-tune answers with another
    training sentence).
    """
    info = _model_info(model)
    if configured != "utterance" or not info:
        return configured
    return "utterance" if info.get("window") == "utterance" else "full"


def whisper_language_for(
    language: str | None, model_tokens: dict[str, str] | None = None
) -> tuple[str | None, str | None]:
    """(the code reported back, the Whisper token to decode with); (None, None) means detect."""
    if language in AUTO:
        return None, None
    pack = find_pack(language)
    if model_tokens:
        code = pack.code if pack is not None else language
        if code in model_tokens:
            return code, model_tokens[code]
        if pack is None and language in model_tokens.values():
            return language, language  # the model's own Whisper code, e.g. a new "wo"
    if pack is not None:
        return pack.code, pack.whisper_language
    if language in _whisper_codes():
        return language, language
    raise UnknownLanguageError(
        f"unknown language {language!r}: install its language pack (`voice packs list` shows the "
        "installed ones) or pass a Whisper language code"
    )


class Recognizer:
    def __init__(self, engine: ASREngine, settings: ASRSettings | None = None):
        self.engine = engine
        s = settings or get_settings().asr
        self.guards = GuardOptions(
            vad_gate=s.vad_gate,
            vad_threshold=s.vad_threshold,
            no_speech_threshold=s.no_speech_threshold,
            log_prob_threshold=s.log_prob_threshold,
            compression_ratio_threshold=s.compression_ratio_threshold,
            max_repeat_ratio=s.max_repeat_ratio,
        )
        self.options = DecodeOptions(
            beam_size=s.beam_size,
            no_speech_threshold=s.no_speech_threshold,
            log_prob_threshold=s.log_prob_threshold,
            compression_ratio_threshold=s.compression_ratio_threshold,
            window=model_window(engine.model, s.window),
            window_step_s=s.window_step_s,
            max_tokens_per_s=s.max_tokens_per_s,
            repetition_penalty=s.repetition_penalty,
        )
        self.model_tokens = model_languages(engine.model)

    def transcribe(self, audio: Audio, language: str | None = "auto") -> Transcript:
        return self.transcribe_many([(audio, language)])[0]

    def transcribe_many(self, items: list[tuple[Audio, str | None]]) -> list[Transcript]:
        """Transcripts of several utterances (each with its own language), in input order.

        The guards run per utterance; the engine decodes the utterances that have speech together
        (faster-whisper: one encode + generate call per window size) or one by one. Safe to call
        from worker threads: the recognizer holds no per-call state. An unknown language raises
        before any decoding, as `transcribe` does.
        """
        results: list[Transcript | None] = [None] * len(items)
        for i, transcript in self.transcribe_iter(items):
            results[i] = transcript
        return results

    def transcribe_iter(self, items: list[tuple[Audio, str | None]]) -> Iterator[tuple[int, Transcript]]:
        """`transcribe_many` as (index in `items`, transcript) pairs, each as soon as it is final.

        A caller serving several phone calls can answer the ones decoded in the batch while an
        utterance that needs the full 30 s window is still being redone.
        """
        prepared = [self._prepare(audio, language) for audio, language in items]
        pending = [(i, p) for i, p in enumerate(prepared) if isinstance(p, _Pending)]
        for i, p in enumerate(prepared):
            if not isinstance(p, _Pending):
                yield i, p
        if pending:
            decoded = self.engine.decode_iter([(p.samples, p.token) for _, p in pending], self.options)
            for k, raw in decoded:
                i, p = pending[k]
                yield i, self._finish(p, raw)

    def _prepare(self, audio: Audio, language: str | None) -> Transcript | _Pending:
        """The gated samples to decode, or the final (empty) transcript when there is nothing to."""
        reported, token = whisper_language_for(language, self.model_tokens)
        audio = audio.to_rate(SAMPLE_RATE)
        samples = audio.samples
        base = Transcript("", reported, audio.duration, engine=self.engine.name, model=self.engine.model.name)
        if samples.size == 0:
            return base
        offset = 0
        if self.guards.vad_gate:
            regions = speech_regions(samples, self.guards)
            if not regions:
                base.no_speech_prob = 1.0
                base.dropped.append("no speech found by the VAD gate")
                return base
            # Start at the first speech (Whisper's timestamps drift over a long silent lead-in),
            # and mute the silences between speech so noise there cannot turn into words.
            offset = regions[0][0]
            samples = mute_outside(samples, regions)[offset:]
        return _Pending(samples, token, reported, offset, audio.duration)

    def _finish(self, p: _Pending, raw: RawResult) -> Transcript:
        shift = p.offset / SAMPLE_RATE
        for seg in raw.segments:
            seg.start, seg.end = seg.start + shift, seg.end + shift
        kept, dropped = filter_segments(raw.segments, self.guards)
        for reason in dropped:
            log.debug("dropped segment %s", reason)
        reported = p.reported
        if reported is None:
            trained = [code for code, tok in self.model_tokens.items() if tok == raw.language]
            detected = pack_for_whisper_language(raw.language)
            reported = trained[0] if len(trained) == 1 else detected.code if detected else raw.language
        return Transcript(
            text=" ".join(s.text for s in kept).strip(),
            language=reported,
            duration=p.duration,
            segments=kept,
            no_speech_prob=min((s.no_speech_prob for s in raw.segments), default=1.0),
            language_probability=raw.language_probability,
            engine=self.engine.name,
            model=self.engine.model.name,
            dropped=dropped,
        )


@dataclass
class _Pending:
    """An utterance past the VAD gate, waiting for the engine."""

    samples: np.ndarray
    token: str | None  # the Whisper language token; None detects
    reported: str | None  # the language code reported back; None: from the detected token
    offset: int  # samples cut before the first speech
    duration: float


@lru_cache(maxsize=4)
def _cached_recognizer(engine: str, model_spec: str | None, settings_json: str) -> Recognizer:
    settings = ASRSettings.model_validate_json(settings_json)
    model = resolve_model(model_spec)
    return Recognizer(create_engine(engine, model, settings), settings)


def get_recognizer(
    engine: str | None = None, model: str | None = None, settings: ASRSettings | None = None
) -> Recognizer:
    """A recognizer, loaded once per (engine, model, settings) and reused."""
    s = settings or get_settings().asr
    return _cached_recognizer(engine or s.engine or DEFAULT_ENGINE, model or s.model, s.model_dump_json())


def tier_for_language(language: str | None, tier: str = "edge"):
    """The pack's ASR tier (model spec + engine), if the pack names one."""
    pack = find_pack(language) if language not in AUTO else None
    return pack.manifest.asr.tiers.get(tier) if pack is not None else None


def recognizer_for(
    language: str | None,
    engine: str | None = None,
    model: str | None = None,
    settings: ASRSettings | None = None,
    tier: str = "edge",
) -> Recognizer:
    """The recognizer for a language: explicit model, else configured, else the pack's tier model.

    When the pack's model cannot be found (offline, weights not installed), the configured
    fallback model serves instead and a warning says so; an explicit model never falls back.
    """
    s = settings or get_settings().asr
    explicit = model or s.model
    if explicit:
        return get_recognizer(engine or s.engine or DEFAULT_ENGINE, explicit, s)
    t = tier_for_language(language, tier)
    spec = t.model if t else None
    if spec and spec.startswith("artifact:"):  # a model bundled inside the pack
        path = find_pack(language).artifact_path(spec.removeprefix("artifact:"))
        spec = str(path) if path else spec
    engine = engine or s.engine or (t.engine if t else DEFAULT_ENGINE)
    fallback = bool(s.fallback_model) and spec not in (None, s.fallback_model)
    if fallback and time.monotonic() < _unavailable.get(spec, 0):
        return get_recognizer(s.engine or DEFAULT_ENGINE, s.fallback_model, s)
    try:
        return get_recognizer(engine, spec, s)
    except ModelNotFoundError as exc:
        if not fallback:
            raise
        # Remember the miss: no download attempt (and no timeout) on every turn of every call.
        _unavailable[spec] = time.monotonic() + UNAVAILABLE_RETRY_S
        log.warning(
            "ASR model %s for %s is unavailable (%s); using %s", spec, language, exc, s.fallback_model
        )
        return get_recognizer(s.engine or DEFAULT_ENGINE, s.fallback_model, s)
