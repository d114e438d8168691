"""Encode `Audio` to wav, Ogg/Opus (WhatsApp voice notes) or raw 8 kHz mu-law (telephony)."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import soundfile as sf

from voice.audio.frames import TELEPHONY_RATE
from voice.audio.mulaw import mulaw_encode
from voice.audio.types import Audio

FORMATS = ("wav", "ogg", "mulaw")
OPUS_RATE = 48000


def encode_audio(audio: Audio, fmt: str) -> bytes:
    if fmt == "wav":
        return to_wav(audio)
    if fmt == "ogg":
        return to_ogg_opus(audio)
    if fmt == "mulaw":
        return mulaw_encode(audio.to_rate(TELEPHONY_RATE).samples)
    raise ValueError(f"unknown audio format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_audio(path: str | Path, audio: Audio, fmt: str | None = None) -> Path:
    path = Path(path)
    fmt = fmt or {".wav": "wav", ".ogg": "ogg", ".opus": "ogg", ".ulaw": "mulaw", ".mulaw": "mulaw"}.get(
        path.suffix.lower(), "wav"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_audio(audio, fmt))
    return path


def to_wav(audio: Audio) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio.samples, -1.0, 1.0), audio.sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def to_ogg_opus(audio: Audio, bitrate: int = 32000) -> bytes:
    """Mono Ogg/Opus at 48 kHz, the format WhatsApp plays as a voice note."""
    samples = np.clip(audio.to_rate(OPUS_RATE).samples, -1.0, 1.0)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=OPUS_RATE)
        stream.layout = "mono"
        stream.bit_rate = bitrate
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = OPUS_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()
