"""Audio in and out: decode any file to mono float32, resample, telephony mu-law, Ogg/Opus."""

from voice.audio.decode import load_audio
from voice.audio.encode import FORMATS, encode_audio, write_audio
from voice.audio.frames import FRAME_MS, TELEPHONY_RATE, frame_bytes
from voice.audio.mulaw import mulaw_decode, mulaw_encode
from voice.audio.resample import resample
from voice.audio.types import Audio

__all__ = [
    "Audio",
    "FORMATS",
    "FRAME_MS",
    "TELEPHONY_RATE",
    "encode_audio",
    "frame_bytes",
    "load_audio",
    "mulaw_decode",
    "mulaw_encode",
    "resample",
    "write_audio",
]
