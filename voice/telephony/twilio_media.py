"""Twilio Media Streams wire format, in one place: parse what Twilio sends, build what we send.

Twilio -> us: connected, start, media (20 ms of 8 kHz mu-law, base64), dtmf, mark, stop.
Us -> Twilio: media, mark, clear. Every message is JSON text; a malformed one raises
`ProtocolError` so the session can log and ignore it (or close that one stream).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from voice.audio import Audio, encode_audio, mulaw_decode
from voice.audio.frames import FRAME_BYTES
from voice.telephony import transport as t
from voice.telephony.transport import ProtocolError

MAX_MESSAGE_BYTES = 64 * 1024  # a 20 ms media message is ~300 bytes; anything this big is abuse


@dataclass(frozen=True)
class Connected:
    protocol: str


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    custom_parameters: dict[str, str] = field(default_factory=dict)
    encoding: str = "audio/x-mulaw"
    sample_rate: int = 8000
    channels: int = 1


@dataclass(frozen=True)
class Media:
    payload: bytes
    timestamp_ms: int
    chunk: int
    track: str = "inbound"


@dataclass(frozen=True)
class Dtmf:
    digit: str


@dataclass(frozen=True)
class Mark:
    name: str


@dataclass(frozen=True)
class Stop:
    call_sid: str


Event = Connected | Start | Media | Dtmf | Mark | Stop


def parse(text: str | bytes) -> Event | None:
    """One websocket message -> an event; None for event types we do not use."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {len(text)} bytes is larger than {MAX_MESSAGE_BYTES}")
    try:
        msg = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(msg, dict) or not isinstance(msg.get("event"), str):
        raise ProtocolError("message without an event name")
    try:
        return _PARSERS.get(msg["event"], lambda _m: None)(msg)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise ProtocolError(f"malformed {msg['event']!r} message: {exc}") from exc


def _start(m: dict) -> Start:
    s = m["start"]
    fmt = s.get("mediaFormat") or {}
    params = s.get("customParameters") or {}
    if not isinstance(params, dict):
        raise ValueError("customParameters is not an object")
    return Start(
        stream_sid=str(m.get("streamSid") or s["streamSid"]),
        call_sid=str(s["callSid"]),
        account_sid=str(s.get("accountSid", "")),
        custom_parameters={str(k): str(v) for k, v in params.items()},
        encoding=fmt.get("encoding", "audio/x-mulaw"),
        sample_rate=int(fmt.get("sampleRate", 8000)),
        channels=int(fmt.get("channels", 1)),
    )


def _media(m: dict) -> Media:
    media = m["media"]
    return Media(
        payload=base64.b64decode(media["payload"], validate=True),
        timestamp_ms=int(media.get("timestamp", 0)),
        chunk=int(media.get("chunk", 0)),
        track=str(media.get("track", "inbound")),
    )


_PARSERS = {
    "connected": lambda m: Connected(str(m.get("protocol", ""))),
    "start": _start,
    "media": _media,
    "dtmf": lambda m: Dtmf(str(m["dtmf"]["digit"])),
    "mark": lambda m: Mark(str(m["mark"]["name"])),
    "stop": lambda m: Stop(str((m.get("stop") or {}).get("callSid", ""))),
}


def media_message(stream_sid: str, mulaw: bytes) -> str:
    payload = base64.b64encode(mulaw).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


def mark_message(stream_sid: str, name: str) -> str:
    return json.dumps({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})


class TwilioCodec:
    """Twilio Media Streams as a `MediaCodec`: 8 kHz mu-law, JSON text messages."""

    name = "twilio"
    sample_rate = 8000
    frame_bytes = FRAME_BYTES

    def parse(self, raw: str | bytes) -> t.InboundEvent | None:
        event = parse(raw)
        if isinstance(event, Start):
            return t.StreamStarted(event.stream_sid, event.call_sid, dict(event.custom_parameters))
        if isinstance(event, Media):
            return t.AudioIn(mulaw_decode(event.payload)) if event.track in ("inbound", "") else None
        if isinstance(event, Mark):
            return t.MarkPlayed(event.name)
        if isinstance(event, Dtmf):
            return t.KeyPressed(event.digit)
        if isinstance(event, Stop):
            return t.StreamStopped()
        return None  # connected, and event types we do not use

    def encode(self, audio: Audio) -> bytes:
        return encode_audio(audio, "mulaw")

    def media(self, stream_id: str, frame: bytes) -> str:
        return media_message(stream_id, frame)

    def mark(self, stream_id: str, name: str) -> str:
        return mark_message(stream_id, name)

    def clear(self, stream_id: str) -> str:
        return clear_message(stream_id)
