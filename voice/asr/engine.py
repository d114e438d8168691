"""The engine interface every Whisper runtime implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from voice.asr.models import ResolvedModel
from voice.asr.types import Segment

SAMPLE_RATE = 16000
TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class DecodeOptions:
    beam_size: int = 5
    temperatures: tuple[float, ...] = TEMPERATURES
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    # "utterance": engines that can encode less than 30 s do so for audio <= 30 s with a known
    # language (faster-whisper; see voice/asr/short.py); "full": always Whisper's 30 s window.
    window: str = "full"
    window_step_s: float = 5.0
    max_tokens_per_s: float = 10.0
    repetition_penalty: float = 1.1


@dataclass
class RawResult:
    """An engine's output before the guards: segments and the (Whisper) language code."""

    segments: list[Segment]
    language: str | None
    language_probability: float | None = None
    extra: dict = field(default_factory=dict)


class ASREngine(ABC):
    """One Whisper runtime. Engines take 16 kHz mono float32 and Whisper language codes."""

    name: str = ""

    def __init__(self, model: ResolvedModel, threads: int = 2):
        self.model = model
        self.threads = threads

    @abstractmethod
    def decode(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        """Transcribe; `language=None` detects it. Never conditions on previous text."""

    def decode_iter(
        self, items: list[tuple[np.ndarray, str | None]], options: DecodeOptions
    ) -> Iterator[tuple[int, RawResult]]:
        """`decode` for several utterances: (index in `items`, result), as each one is final.

        Engines that can put several utterances in one model call override this; the default
        decodes them one at a time, in order.
        """
        for i, (samples, language) in enumerate(items):
            yield i, self.decode(samples, language, options)

    def decode_many(
        self, items: list[tuple[np.ndarray, str | None]], options: DecodeOptions
    ) -> list[RawResult]:
        """`decode_iter`'s results in input order."""
        results: list[RawResult | None] = [None] * len(items)
        for i, raw in self.decode_iter(items, options):
            results[i] = raw
        return results

    @abstractmethod
    def greedy_tokens(
        self, samples: np.ndarray, language: str, max_new_tokens: int, force_length: bool = False
    ) -> list[int]:
        """Greedy text tokens for one 30 s window, without timestamps.

        `force_length` suppresses end-of-text so exactly `max_new_tokens` are decoded: equal work
        across engines for benchmarks, whatever the weights.
        """
