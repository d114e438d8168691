"""Decode any audio file to mono float32 at one sample rate.

wav/flac go through soundfile (libsndfile); everything else (ogg/opus, mp3, m4a/aac, amr, webm)
through PyAV (FFmpeg). Whatever goes wrong surfaces as one `AudioError(source, reason)`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np
import soundfile as sf

from voice.audio.resample import resample
from voice.audio.types import Audio
from voice.errors import AudioError

AudioSource = str | Path | bytes | BinaryIO

_SOUNDFILE_HEADS = (b"RIFF", b"fLaC", b"FORM")
# A container that declares a length but decodes to less than this share is truncated.
_TRUNCATION_TOLERANCE = 0.9


def load_audio(source: AudioSource, sample_rate: int = 16000, name: str | None = None) -> Audio:
    """Read `source` (path, bytes or binary file) -> mono `Audio` at `sample_rate`."""
    label, data = _read_source(source, name)
    if not data:
        raise AudioError(label, "the file is empty (0 bytes)")
    if data[:4] in _SOUNDFILE_HEADS:
        samples, rate = _decode_soundfile(label, data)
    else:
        if data[:4] == b"OggS" and (why := _ogg_truncation(data)):
            raise AudioError(label, f"truncated: {why}")
        samples, rate = _decode_av(label, data)
    if samples.size == 0:
        raise AudioError(label, "no audio samples could be decoded")
    if not np.all(np.isfinite(samples)):
        raise AudioError(label, "the audio contains NaN or infinite samples")
    return Audio(resample(samples, rate, sample_rate), sample_rate)


def _read_source(source: AudioSource, name: str | None) -> tuple[str, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        return name or "<bytes>", bytes(source)
    if isinstance(source, str | Path):
        path = Path(source)
        label = name or str(path)
        if not path.exists():
            raise AudioError(label, "no such file")
        if path.is_dir():
            raise AudioError(label, "is a directory, not an audio file")
        return label, path.read_bytes()
    return name or getattr(source, "name", "<stream>"), source.read()


def _decode_soundfile(label: str, data: bytes) -> tuple[np.ndarray, int]:
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            declared = f.frames
            samples = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError(label, f"corrupt or unsupported audio ({exc})") from exc
    if declared > 0 and samples.shape[0] < declared * _TRUNCATION_TOLERANCE:
        raise AudioError(label, f"truncated: header declares {declared} frames, only {samples.shape[0]} read")
    if _wav_data_truncated(data):
        raise AudioError(label, "truncated: the WAV data chunk is shorter than its header says")
    return samples.mean(axis=1).astype(np.float32), rate


def _wav_data_truncated(data: bytes) -> bool:
    """libsndfile silently accepts a WAV cut short; check the data chunk's declared size."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk_id == b"data":
            available = len(data) - (pos + 8)
            # Streaming writers (espeak-ng --stdout, ffmpeg to a pipe) put 0 or ~2^31 here: the
            # length was unknown when the header was written, so trust what is there.
            unknown = size == 0 or size >= 0x7FFF0000
            return not unknown and available < size * _TRUNCATION_TOLERANCE
        pos += 8 + size + (size & 1)
    return False


def _ogg_truncation(data: bytes) -> str | None:
    """Ogg declares no total length; a complete stream ends with a whole page flagged end-of-stream."""
    last = data.rfind(b"OggS")
    header = data[last : last + 27]
    if len(header) < 27:
        return "the last Ogg page is cut off"
    n_segments = header[26]
    table = data[last + 27 : last + 27 + n_segments]
    if len(table) < n_segments or last + 27 + n_segments + sum(table) > len(data):
        return "the last Ogg page is cut off"
    if not header[5] & 0x04:
        return "the Ogg stream has no end-of-stream page"
    return None


def _decode_av(label: str, data: bytes) -> tuple[np.ndarray, int]:
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioError(
            label, f"cannot be opened as audio: corrupt, truncated or unsupported ({_short(exc)})"
        ) from exc
    with container:
        streams = container.streams.audio
        if not streams:
            raise AudioError(label, "the file holds no audio stream")
        stream = streams[0]
        rate = stream.codec_context.sample_rate or stream.rate
        if not rate:
            raise AudioError(label, "the audio stream declares no sample rate")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            raise AudioError(label, f"corrupt audio data ({_short(exc)})") from exc
        samples = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        declared = _declared_seconds(container, stream)
    if declared and samples.size and samples.size / rate < declared * _TRUNCATION_TOLERANCE:
        raise AudioError(
            label, f"truncated: declares {declared:.2f} s, only {samples.size / rate:.2f} s decoded"
        )
    return samples.astype(np.float32), rate


def _declared_seconds(container: av.container.InputContainer, stream: av.audio.stream.AudioStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return 0.0


def _short(exc: Exception) -> str:
    """FFmpeg's own words, without errno noise or the '<none>' file name PyAV appends."""
    return (getattr(exc, "strerror", None) or str(exc)).strip()
