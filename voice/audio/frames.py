"""Fixed-size framing for telephony: Twilio sends and expects 20 ms of 8 kHz mu-law (160 bytes)."""

from __future__ import annotations

from collections.abc import Iterator

TELEPHONY_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = TELEPHONY_RATE * FRAME_MS // 1000  # 160 bytes of mu-law
_MULAW_SILENCE = b"\xff"


def frame_bytes(data: bytes, size: int = FRAME_BYTES, pad: bool = True) -> Iterator[bytes]:
    """Split a byte stream into frames of `size`; the last is padded with mu-law silence."""
    for start in range(0, len(data), size):
        frame = data[start : start + size]
        if len(frame) < size:
            if not pad:
                return
            frame = frame + _MULAW_SILENCE * (size - len(frame))
        yield frame
