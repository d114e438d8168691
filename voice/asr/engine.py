"""The engine interface every Whisper runtime implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
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

    @abstractmethod
    def greedy_tokens(
        self, samples: np.ndarray, language: str, max_new_tokens: int, force_length: bool = False
    ) -> list[int]:
        """Greedy text tokens for one 30 s window, without timestamps.

        `force_length` suppresses end-of-text so exactly `max_new_tokens` are decoded: equal work
        across engines for benchmarks, whatever the weights.
        """
