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
    """The last `seconds` of a live stream, addressable by stream time (seconds from its start).

    A fixed ring: appending a 20 ms frame copies 20 ms, however long the buffer is.
    """

    def __init__(self, sample_rate: int, seconds: float):
        self.rate = sample_rate
        self._ring = np.zeros(max(1, int(seconds * sample_rate)), dtype=np.float32)
        self._total = 0  # samples ever appended (stream index of the next one)

    def append(self, samples: np.ndarray) -> None:
        samples = samples.astype(np.float32, copy=False)[-len(self._ring) :]
        n, size = len(samples), len(self._ring)
        at = self._total % size
        first = min(n, size - at)
        self._ring[at : at + first] = samples[:first]
        self._ring[: n - first] = samples[first:]
        self._total += n

    def slice(self, start_s: float, end_s: float) -> np.ndarray:
        """Samples between two stream times; what is older than the buffer is gone."""
        size = len(self._ring)
        a = max(int(start_s * self.rate), self._total - size, 0)
        b = min(max(int(end_s * self.rate), a), self._total)
        idx = np.arange(a, b) % size
        return self._ring[idx]
