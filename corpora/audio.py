"""Reading utterances out of audio files: durations and segments, without decoding whole files.

wav/flac/ogg are read by frame range with soundfile (seekable); other formats (mp3, m4a, ...)
are decoded whole once and kept in a small cache, so consecutive segments of one long recording
cost one decode. For training on many long mp3 recordings, cut them first (`--cut`).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from voice.audio import load_audio, resample

SAMPLE_RATE = 16000
_CACHE: OrderedDict[str, np.ndarray] = OrderedDict()
_CACHE_SIZE = 4


def audio_duration(path: str | Path) -> float:
    import soundfile as sf

    try:
        info = sf.info(str(path))
        return info.frames / float(info.samplerate)
    except Exception:
        return load_audio(Path(path), SAMPLE_RATE).duration


def _decoded(path: str) -> np.ndarray:
    if path in _CACHE:
        _CACHE.move_to_end(path)
        return _CACHE[path]
    samples = load_audio(Path(path), SAMPLE_RATE).samples
    _CACHE[path] = samples
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return samples


def load_segment(
    path: str | Path, offset: float = 0.0, duration: float | None = None, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Mono float32 samples of [offset, offset + duration) at `sample_rate`."""
    import soundfile as sf

    path = str(path)
    try:
        info = sf.info(path)
    except Exception:
        info = None
    if info is not None and info.format in ("WAV", "FLAC", "OGG", "AIFF", "W64", "RF64", "WAVEX"):
        start = int(round(offset * info.samplerate))
        frames = -1 if duration is None else int(round(duration * info.samplerate))
        data, rate = sf.read(path, start=start, frames=frames, dtype="float32", always_2d=True)
        return resample(data.mean(axis=1).astype(np.float32), rate, sample_rate)
    samples = _decoded(path)
    start = int(round(offset * SAMPLE_RATE))
    end = len(samples) if duration is None else start + int(round(duration * SAMPLE_RATE))
    return resample(samples[start:end], SAMPLE_RATE, sample_rate)
