"""G.711 mu-law, as Twilio Media Streams carry it (8 kHz, 8-bit).

Vectorised numpy; the stdlib `audioop` module is gone from Python 3.13.
"""

from __future__ import annotations

import numpy as np

_BIAS = 0x84
_BIAS_14 = _BIAS >> 2
_CLIP_14 = 8159
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_DECODE = _decode_table()


def mulaw_encode(samples: np.ndarray) -> bytes:
    """Float samples in [-1, 1] (or int16) -> mu-law bytes, one byte per sample.

    Bit-exact with the reference G.711 coder (the one CPython's audioop used).
    """
    if samples.dtype == np.int16:
        pcm = samples.astype(np.int32)
    else:
        pcm = np.clip(np.round(samples.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int32)
    pcm = pcm >> 2  # the coder works on 14-bit magnitudes
    mask = np.where(pcm < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(pcm), _CLIP_14) + _BIAS_14
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude, side="left")
    code = (np.minimum(segment, 7) << 4) | ((magnitude >> (np.minimum(segment, 7) + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return (code ^ mask).astype(np.uint8).tobytes()


def mulaw_decode(data: bytes) -> np.ndarray:
    """Mu-law bytes -> float32 samples in [-1, 1]."""
    codes = np.frombuffer(data, dtype=np.uint8)
    return (_DECODE[codes].astype(np.float32) / 32768.0).astype(np.float32)
