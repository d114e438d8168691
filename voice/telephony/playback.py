"""Outbound audio for one call: 20 ms frames paced near real time, a mark after each
sentence, and an account of what the caller actually heard.

The provider's wire format comes from the call's codec. Twilio echoes a mark once the audio
before it has played; after a `clear` it echoes the rest at once, so only marks echoed before
the clear count as heard. The sentence playing at the clear is counted up to the words its
played frames cover.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from voice.audio.frames import frame_bytes
from voice.telephony.transport import MediaCodec, Message

FRAME_S = 0.02


@dataclass
class Spoken:
    turn: int
    index: int
    text: str
    frames: list[bytes]
    sent: int = 0
    start_clock: float | None = None  # play-clock time of its first frame
    heard: bool = False  # its mark came back before any clear

    @property
    def mark(self) -> str:
        return f"t{self.turn}s{self.index}"


@dataclass
class PlaybackStats:
    frames_sent: int = 0
    max_gap_s: float = 0.0  # largest gap between consecutive frames of continuous playback
    first_frame_at: dict[int, float] = field(default_factory=dict)  # turn -> wall time


class Player:
    def __init__(
        self,
        send: Callable[[Message], Awaitable[None]],
        codec: MediaCodec,
        stream_sid: str,
        lead_ms: int = 100,
    ):
        self._send = send
        self.codec = codec
        self.stream_sid = stream_sid
        self.lead = lead_ms / 1000
        self._queue: deque[Spoken] = deque()
        self._history: list[Spoken] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._clock: float | None = None
        self._last_send: float | None = None
        self.stats = PlaybackStats()
        self._task = asyncio.create_task(self._pace(), name=f"pacer-{stream_sid}")

    @property
    def playing(self) -> bool:
        """Audio queued, being sent, or sent but not yet confirmed played by a mark."""
        return bool(self._queue) or any(s.sent and not s.heard for s in self._history[-8:] if not s.heard)

    def enqueue(self, turn: int, index: int, text: str, encoded: bytes) -> Spoken:
        spoken = Spoken(turn, index, text, list(frame_bytes(encoded, self.codec.frame_bytes)))
        self._queue.append(spoken)
        self._history.append(spoken)
        self._idle.clear()
        self._wake.set()
        return spoken

    def on_mark(self, name: str) -> None:
        for s in reversed(self._history):
            if s.mark == name:
                s.heard = True
                return

    async def wait_played(self, timeout: float | None = None) -> bool:
        """Until everything queued has been sent and its marks echoed (or timeout)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.playing:
            if deadline is not None and time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def wait_started(self, turn: int, timeout: float = 2.0) -> float | None:
        """Wall time the turn's first frame went out (waiting a little for the pacer)."""
        deadline = time.monotonic() + timeout
        while turn not in self.stats.first_frame_at and time.monotonic() < deadline:
            if not self._queue:
                break  # nothing of it is queued: it will not start
            await asyncio.sleep(0.01)
        return self.stats.first_frame_at.get(turn)

    def heard_text(self, turn: int) -> str:
        """What the caller heard of a turn: sentences whose marks came back, and the played part
        of the sentence that was playing."""
        words: list[str] = []
        now = time.monotonic()
        for s in self._history:
            if s.turn != turn:
                continue
            if s.heard:
                words.extend(s.text.split())
                continue
            if s.start_clock is not None and s.frames:
                played = min(s.sent, max(0, int((now - s.start_clock) / FRAME_S)))
                share = played / len(s.frames)
                text_words = s.text.split()
                words.extend(text_words[: int(len(text_words) * share)])
            break
        return " ".join(words)

    async def clear(self) -> None:
        """Stop playback now (barge-in): drop what is queued and tell Twilio to flush its buffer."""
        self._queue.clear()
        self._clock = None
        self._last_send = None
        self._idle.set()
        await self._send(self.codec.clear(self.stream_sid))

    async def close(self) -> None:
        self._queue.clear()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def _pace(self) -> None:
        while True:
            if not self._queue:
                self._idle.set()
                self._clock = None
                self._last_send = None
                self._wake.clear()
                await self._wake.wait()
                continue
            spoken = self._queue[0]
            while spoken.sent < len(spoken.frames):
                now = time.monotonic()
                if self._clock is None or self._clock < now - self.lead:
                    self._clock = now  # start (or restart after a stall) the play clock
                if spoken.sent == 0:
                    spoken.start_clock = self._clock
                    self.stats.first_frame_at.setdefault(spoken.turn, time.time())
                ahead = self._clock - now
                if ahead > self.lead:
                    await asyncio.sleep(ahead - self.lead)
                if not self._queue or self._queue[0] is not spoken:
                    break  # cleared while sleeping
                await self._send(self.codec.media(self.stream_sid, spoken.frames[spoken.sent]))
                sent_at = time.monotonic()
                if self._last_send is not None:
                    self.stats.max_gap_s = max(self.stats.max_gap_s, sent_at - self._last_send)
                self._last_send = sent_at
                spoken.sent += 1
                self.stats.frames_sent += 1
                self._clock += FRAME_S
            else:
                await self._send(self.codec.mark(self.stream_sid, spoken.mark))
                if self._queue and self._queue[0] is spoken:
                    self._queue.popleft()
                # Between sentences of one reply the clock runs on; a gap here is a real stall.
                continue
