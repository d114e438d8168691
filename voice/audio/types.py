"""The one audio value passed between stages."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples in [-1, 1] at `sample_rate` Hz."""

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        if self.samples.ndim != 1:
            raise ValueError("Audio.samples must be mono (1-D)")
        if self.samples.dtype != np.float32:
            object.__setattr__(self, "samples", self.samples.astype(np.float32))

    @property
    def duration(self) -> float:
        return len(self.samples) / float(self.sample_rate)

    def to_rate(self, sample_rate: int) -> Audio:
        from voice.audio.resample import resample

        if sample_rate == self.sample_rate:
            return self
        return Audio(resample(self.samples, self.sample_rate, sample_rate), sample_rate)

    @staticmethod
    def silence(seconds: float, sample_rate: int = 16000) -> Audio:
        return Audio(np.zeros(int(seconds * sample_rate), dtype=np.float32), sample_rate)

    @staticmethod
    def concat(parts: list[Audio]) -> Audio:
        if not parts:
            raise ValueError("nothing to concatenate")
        rate = parts[0].sample_rate
        return Audio(np.concatenate([p.to_rate(rate).samples for p in parts]), rate)
