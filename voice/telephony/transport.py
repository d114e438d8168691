"""What a live call's session needs from a telephony provider: one codec per wire format.

The call logic (endpointing, barge-in, playback accounting, DTMF, idle, hand-off) speaks these
typed events; each provider's wire format lives in one module implementing `MediaCodec` (Twilio
Media Streams: `voice.telephony.twilio_media.TwilioCodec`). A second provider is one more codec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from voice.audio import Audio


class ProtocolError(ValueError):
    """A malformed message from the provider: logged and ignored (too many close the stream)."""


@dataclass(frozen=True)
class StreamStarted:
    stream_id: str  # the provider's id for this media stream (sent back with every message)
    call_id: str  # the provider's id for the call (hand-off and hang-up use it)
    parameters: dict[str, str] = field(default_factory=dict)  # ours, from the webhook: token, lang


@dataclass(frozen=True)
class AudioIn:
    samples: np.ndarray  # float32 mono at the codec's `sample_rate`


@dataclass(frozen=True)
class MarkPlayed:
    name: str  # the provider played everything sent before this mark


@dataclass(frozen=True)
class KeyPressed:
    digit: str


@dataclass(frozen=True)
class StreamStopped:
    """The provider ended the stream (the caller hung up, or the call moved on)."""


InboundEvent = StreamStarted | AudioIn | MarkPlayed | KeyPressed | StreamStopped
Message = str | bytes


class MediaCodec(Protocol):
    name: str
    sample_rate: int  # of the caller's audio and of what we send back
    frame_bytes: int  # 20 ms of outbound audio in the wire encoding

    def parse(self, raw: Message) -> InboundEvent | None:
        """One websocket message -> an event (None: nothing for the call); raises ProtocolError."""

    def encode(self, audio: Audio) -> bytes:
        """Speech -> the wire's audio encoding at `sample_rate` (cut into frames by the player)."""

    def media(self, stream_id: str, frame: bytes) -> Message: ...

    def mark(self, stream_id: str, name: str) -> Message: ...

    def clear(self, stream_id: str) -> Message: ...
