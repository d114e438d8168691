"""Sample-rate conversion with soxr (high quality, fast, no torch)."""

from __future__ import annotations

import numpy as np
import soxr


def resample(samples: np.ndarray, from_rate: int, to_rate: int, quality: str = "HQ") -> np.ndarray:
    """Resample mono float32 samples; returns the input unchanged when the rates match."""
    if from_rate == to_rate:
        return samples.astype(np.float32, copy=False)
    out = soxr.resample(samples.astype(np.float32, copy=False), from_rate, to_rate, quality=quality)
    return np.asarray(out, dtype=np.float32)


class StreamResampler:
    """Chunk-by-chunk resampling that keeps filter state between chunks (telephony streams)."""

    def __init__(self, from_rate: int, to_rate: int, quality: str = "HQ"):
        self._same = from_rate == to_rate
        self._stream = None if self._same else soxr.ResampleStream(from_rate, to_rate, 1, "float32", quality)

    def __call__(self, chunk: np.ndarray, last: bool = False) -> np.ndarray:
        if self._same:
            return chunk.astype(np.float32, copy=False)
        return self._stream.resample_chunk(chunk.astype(np.float32, copy=False), last=last)


class LineBuffer:
    """The last `seconds` of a live stream, addressable by stream time (seconds from its start)."""

    def __init__(self, sample_rate: int, seconds: float):
        self.rate = sample_rate
        self._keep = int(seconds * sample_rate)
        self._data = np.zeros(0, dtype=np.float32)
        self._offset = 0  # stream index of self._data[0]

    def append(self, samples: np.ndarray) -> None:
        self._data = np.concatenate([self._data, samples.astype(np.float32, copy=False)])
        extra = len(self._data) - self._keep
        if extra > self.rate:  # trim in steps of >= 1 s, not every frame
            self._data = self._data[extra:]
            self._offset += extra

    def slice(self, start_s: float, end_s: float) -> np.ndarray:
        a = max(0, int(start_s * self.rate) - self._offset)
        b = max(0, int(end_s * self.rate) - self._offset)
        return self._data[a:b].copy()
