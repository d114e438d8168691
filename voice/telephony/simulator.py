"""The caller's side of a Twilio phone call, over the real protocol, for testing a deployment.

It does what Twilio does: signs and POSTs the voice webhook, follows the TwiML `<Stream>`, opens
the websocket, sends `connected` and `start` with the custom parameters, then 20 ms mu-law
frames in real time (speech, then silence, as a phone line does), plays the bot's audio at real
time on a simulated handset, echoes each `mark` once the audio before it has played, and on
`clear` drops unplayed audio and echoes the pending marks at once.

It also measures what a caller hears, for any bot that speaks the protocol (ours or a peer's):
when the first reply frame carrying speech plays (by energy, not the first frame of any kind),
whether the bot started talking before the question ended (premature), and the silences the
handset plays inside a reply because audio arrived late (underruns). Messages may carry more than
20 ms: the handset keeps a play-out clock, so a bot that sends ahead is not counted as late.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field

import httpx
import numpy as np
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import connect

from voice.audio import Audio, encode_audio, mulaw_decode
from voice.audio.frames import FRAME_BYTES, frame_bytes
from voice.errors import VoiceError

FRAME_S = 0.02
SILENCE = b"\xff" * FRAME_BYTES
SPEECH_RMS = 0.02  # a decoded 20 ms frame louder than this (-34 dBFS) carries speech
UTTERANCE_GAP_S = 0.3  # bot speech after this much played non-speech starts a new utterance


def is_speech(frame: bytes, threshold: float = SPEECH_RMS) -> bool:
    """Whether a mu-law frame carries speech rather than silence or line noise."""
    if not frame:
        return False
    x = mulaw_decode(frame)
    return float(np.sqrt(np.mean(x * x))) > threshold


# -- the script a simulated caller follows ---------------------------------------------------------
@dataclass
class Speak:
    audio: Audio
    wait_reply: bool = True  # then wait until the bot's reply has finished playing
    interrupt_after_s: float | None = None  # start while the bot is still talking, this long into it
    pauses_s: list[float] = field(default_factory=list)  # silences inside the sentence, for reports

    @classmethod
    def parts(cls, *pieces: Audio | float, **kw) -> Speak:
        """One utterance from speech and silences: `Speak.parts(a, 0.5, b)` pauses 500 ms between
        `a` and `b` (each trimmed first, so the pause is exactly as long as asked)."""
        speech = [p for p in pieces if isinstance(p, Audio)]
        if not speech:
            raise ValueError("an utterance needs some speech")
        rate = speech[0].sample_rate
        audio = [
            trim_silence(p).to_rate(rate) if isinstance(p, Audio) else Audio.silence(p, rate) for p in pieces
        ]
        return cls(Audio.concat(audio), pauses_s=[float(p) for p in pieces if not isinstance(p, Audio)], **kw)


@dataclass
class Press:
    digit: str


@dataclass
class Pause:
    seconds: float


@dataclass
class SendRaw:
    text: str  # anything, e.g. a malformed message for robustness tests


@dataclass
class Hangup:
    pass


class SyncGroup:
    """A meeting point for several callers in one event loop: each waits until all arrived (or
    the timeout passed, so one dead call cannot hold the others forever)."""

    def __init__(self, parties: int, timeout_s: float = 120.0):
        self.parties, self.timeout_s = parties, timeout_s
        self.arrived = 0
        self.released = asyncio.Event()
        self.released_at: float | None = None  # wall-clock time all had arrived

    async def arrive(self) -> None:
        self.arrived += 1
        if self.arrived >= self.parties and not self.released.is_set():
            self.released_at = time.time()
            self.released.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.released.wait(), self.timeout_s)


@dataclass
class Sync:
    group: SyncGroup  # e.g. ten callers all start their question at once


Step = Speak | Press | Pause | SendRaw | Hangup | Sync


@dataclass
class TurnReport:
    index: int
    caller_seconds: float
    speech_end: float  # wall-clock time the caller's last speech frame was sent
    speech_start: float = 0.0  # wall-clock time the first frame with speech in it was sent
    first_reply: float | None = None  # wall-clock time the first reply frame arrived
    reply_frames: list[bytes] = field(default_factory=list)
    cleared: bool = False
    max_gap_s: float = 0.0  # largest gap between reply frames arriving, once the reply started
    last_frame_at: float = 0.0
    pauses_s: list[float] = field(default_factory=list)  # silences inside the question
    first_speech: float | None = None  # wall-clock time the reply's first speech frame played
    premature_at: float | None = None  # bot speech played before the question ended (first time)
    max_underrun_s: float = 0.0  # longest silence inside the reply because audio came late

    @property
    def latency_s(self) -> float | None:
        return None if self.first_reply is None else self.first_reply - self.speech_end

    @property
    def speech_latency_s(self) -> float | None:
        """From the caller's last speech frame to the first reply frame carrying speech, heard."""
        return None if self.first_speech is None else self.first_speech - self.speech_end

    @property
    def premature(self) -> bool:
        return self.premature_at is not None

    @property
    def reply_audio(self) -> Audio:
        return Audio(mulaw_decode(b"".join(self.reply_frames)), 8000)


@dataclass
class CallReport:
    call_sid: str
    stream_url: str
    parameters: dict[str, str]
    greeting_frames: list[bytes] = field(default_factory=list)
    turns: list[TurnReport] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)  # wall-clock times `clear` arrived
    marks_echoed: list[str] = field(default_factory=list)
    closed_by_server: bool = False
    ended_by_twilio: bool = False  # hung up or redirected through Twilio's REST API
    close_code: int | None = None
    server_turns: list[dict] = field(default_factory=list)

    @property
    def greeting_audio(self) -> Audio:
        return Audio(mulaw_decode(b"".join(self.greeting_frames)), 8000)

    def recording(self) -> Audio:
        """Everything the bot said, greeting first, 0.3 s apart."""
        parts = [self.greeting_audio] + [t.reply_audio for t in self.turns]
        gap = Audio.silence(0.3, 8000)
        out: list[Audio] = []
        for p in parts:
            if len(p.samples):
                out += [p, gap]
        return Audio.concat(out) if out else Audio.silence(0.1, 8000)

    def to_json(self, heard: list[str] | None = None) -> dict:
        turns = []
        for t in self.turns:
            server = next((s for s in self.server_turns if s.get("index") == t.index), {})
            turns.append(
                {
                    "index": t.index,
                    "caller_seconds": round(t.caller_seconds, 2),
                    "heard": server.get("caller_text"),
                    "bot_text": server.get("bot_text"),
                    "bot_text_planned": server.get("bot_text_planned"),
                    "route": server.get("route"),
                    "voice_to_voice_s": None if t.latency_s is None else round(t.latency_s, 3),
                    "speech_v2v_s": None if t.speech_latency_s is None else round(t.speech_latency_s, 3),
                    "premature": t.premature,
                    "reply_seconds": round(len(t.reply_frames) * FRAME_S, 2),
                    "interrupted": t.cleared,
                }
            )
        return {
            "call_sid": self.call_sid,
            "parameters": self.parameters,
            "turns": turns,
            "greeting_seconds": round(len(self.greeting_frames) * FRAME_S, 2),
        }


TRIM_PAD_S = 0.04


def trim_silence(audio: Audio, floor: float = 0.02) -> Audio:
    """Cut leading and trailing near-silence so latency is measured from the end of speech."""
    x = audio.samples
    loud = np.flatnonzero(np.abs(x) > floor * max(1e-6, float(np.max(np.abs(x)))))
    if loud.size == 0:
        return audio
    pad = int(TRIM_PAD_S * audio.sample_rate)
    return Audio(x[max(0, loud[0] - pad) : loud[-1] + pad], audio.sample_rate)


class SimulatedCaller:
    def __init__(
        self,
        base_url: str,
        account_sid: str,
        auth_token: str,
        lang: str | None = None,
        caller: str = "+221700000001",
        to: str = "+221338000000",
        api_token: str | None = None,
        reply_timeout_s: float = 45.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.account_sid, self.auth_token = account_sid, auth_token
        self.lang, self.caller, self.to = lang, caller, to
        self.api_token = api_token
        self.reply_timeout_s = reply_timeout_s
        self.call_sid = "CA" + uuid.uuid4().hex
        self.stream_sid = "MZ" + uuid.uuid4().hex
        # Set by whoever plays Twilio's REST side when the call is hung up or redirected:
        # Twilio then ends the media stream with `stop`.
        self.ended_by_twilio = threading.Event()

    # -- webhook ------------------------------------------------------------------------------------
    async def dial(self, client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
        url = f"{self.base_url}/twilio/voice" + (f"?lang={self.lang}" if self.lang else "")
        form = {
            "CallSid": self.call_sid,
            "AccountSid": self.account_sid,
            "From": self.caller,
            "To": self.to,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        r = await client.post(url, data=form, headers={"X-Twilio-Signature": signature})
        if r.status_code == 403:
            raise VoiceError(
                f"{url} refused our signature (403): sign with the gateway's TWILIO_AUTH_TOKEN, and make "
                "its VOICE_PUBLIC_URL the URL you call"
            )
        if r.status_code != 200:
            raise VoiceError(f"{url} answered {r.status_code}: {r.text[:200]}")
        stream = ET.fromstring(r.text).find("./Connect/Stream")
        if stream is None:
            raise ValueError(f"the TwiML has no <Connect><Stream>: {r.text[:200]}")
        params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
        return stream.get("url"), params

    # -- the call -----------------------------------------------------------------------------------
    async def run(
        self, steps: list[Step], params_override: dict[str, str] | None = None, start_after_s: float = 0.0
    ) -> CallReport:
        """Dial (after `start_after_s`, for staggered calls), follow the steps, hang up."""
        if start_after_s > 0:
            await asyncio.sleep(start_after_s)
        async with httpx.AsyncClient(timeout=30) as client:
            stream_url, params = await self.dial(client)
            params = {**params, **(params_override or {})}
            report = CallReport(self.call_sid, stream_url, params)
            await _Line(self, report).run(stream_url, params, steps)
            report.server_turns = await self._server_turns(client)
        return report

    async def _server_turns(self, client: httpx.AsyncClient) -> list[dict]:
        headers = {"Authorization": f"Bearer {self.api_token}"} if self.api_token else {}
        try:
            r = await client.get(f"{self.base_url}/v1/calls/{self.call_sid}", headers=headers)
        except httpx.HTTPError:
            return []
        return r.json().get("turns", []) if r.status_code == 200 else []


class _Line:
    """One open media stream: a sender ticking every 20 ms and a simulated handset."""

    def __init__(self, caller: SimulatedCaller, report: CallReport):
        self.c, self.report = caller, report
        self.outgoing: deque[bytes] = deque()  # caller speech frames still to send
        self.handset: deque[tuple[str, bytes | str]] = deque()  # ("audio", frame) | ("mark", name)
        self.current: TurnReport | None = None  # None: we are hearing the greeting
        self.speaking: TurnReport | None = None  # the question being sent right now
        self.last_audio_at = 0.0
        # The handset's play-out clock (wall time): when what has arrived will have played; when
        # the bot's last speech frame played and when its current utterance began.
        self.play_end = 0.0
        self.last_speech_at = 0.0
        self.utterance_start = 0.0
        self.seq = 0
        self.ws = None
        self.done = asyncio.Event()

    def _msg(self, event: str, **body) -> str:
        self.seq += 1
        return json.dumps(
            {"event": event, "sequenceNumber": str(self.seq), "streamSid": self.c.stream_sid, **body}
        )

    async def run(self, url: str, params: dict[str, str], steps: list[Step]) -> None:
        async with connect(url, max_size=2**20) as ws:
            self.ws = ws
            await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
            await ws.send(
                self._msg(
                    "start",
                    start={
                        "streamSid": self.c.stream_sid,
                        "accountSid": self.c.account_sid,
                        "callSid": self.c.call_sid,
                        "tracks": ["inbound"],
                        "customParameters": params,
                        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    },
                )
            )
            tasks = [
                asyncio.create_task(self._send_loop()),
                asyncio.create_task(self._play_loop()),
                asyncio.create_task(self._receive_loop()),
                asyncio.create_task(self._watch_twilio()),
            ]
            try:
                await self._wait_bot_quiet(first=True)
                hung_up = False
                for step in steps:
                    if self.report.closed_by_server:
                        break
                    if isinstance(step, Hangup):  # the caller's line drops: no `stop`, just gone
                        hung_up = True
                        break
                    await self._do(step)
                if not self.report.closed_by_server and not hung_up:
                    await self._wait_bot_quiet(quiet_s=0.5)
                    await ws.send(
                        self._msg("stop", stop={"accountSid": self.c.account_sid, "callSid": self.c.call_sid})
                    )
            finally:
                self.done.set()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch_twilio(self) -> None:
        while not self.c.ended_by_twilio.is_set():
            await asyncio.sleep(0.05)
        self.report.ended_by_twilio = True
        await self.ws.send(
            self._msg("stop", stop={"accountSid": self.c.account_sid, "callSid": self.c.call_sid})
        )
        self.report.closed_by_server = True
        await self.ws.close()

    async def _do(self, step: Step) -> None:
        if isinstance(step, Speak):
            if step.interrupt_after_s is not None:
                await self._wait_bot_talking()
                await asyncio.sleep(step.interrupt_after_s)
            speech = trim_silence(step.audio).to_rate(8000)
            frames = list(frame_bytes(encode_audio(speech, "mulaw")))
            turn = TurnReport(len(self.report.turns) + 1, speech.duration, 0.0, pauses_s=list(step.pauses_s))
            self.report.turns.append(turn)
            self._speech_turn, self._speech_frames_left = turn, int(TRIM_PAD_S / FRAME_S)
            self.speaking = turn
            self.outgoing.extend(frames)
            while self.outgoing and not self.report.closed_by_server:
                await asyncio.sleep(FRAME_S)
            turn.speech_end = time.time()
            self.current, self.speaking = turn, None
            if step.wait_reply:
                await self._wait_reply(turn)
        elif isinstance(step, Press):
            await self.ws.send(self._msg("dtmf", dtmf={"track": "inbound_track", "digit": step.digit}))
            await asyncio.sleep(0.5)
        elif isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
        elif isinstance(step, SendRaw):
            await self.ws.send(step.text)
        elif isinstance(step, Sync):
            await step.group.arrive()

    async def _wait_reply(self, turn: TurnReport) -> None:
        end = time.monotonic() + self.c.reply_timeout_s
        while turn.first_reply is None and time.monotonic() < end and not self.report.closed_by_server:
            await asyncio.sleep(0.05)
        await self._wait_bot_quiet()

    async def _wait_bot_quiet(self, first: bool = False, quiet_s: float = 1.2) -> None:
        """Until the handset is empty and nothing new arrived for `quiet_s` (after it started)."""
        end = time.monotonic() + self.c.reply_timeout_s
        while time.monotonic() < end and not self.report.closed_by_server:
            started = self.last_audio_at > 0
            if started and not self.handset and time.monotonic() - self.last_audio_at > quiet_s:
                return
            await asyncio.sleep(0.05)

    async def _wait_bot_talking(self) -> None:
        end = time.monotonic() + self.c.reply_timeout_s
        while not self.handset and time.monotonic() < end:
            await asyncio.sleep(0.01)

    async def _send_loop(self) -> None:
        """Twilio sends 20 ms of inbound audio continuously: speech when there is some, else silence."""
        start = time.monotonic()
        n = 0
        while not self.done.is_set():
            frame = self.outgoing.popleft() if self.outgoing else SILENCE
            n += 1
            self._note_speech_start()
            try:
                await self.ws.send(
                    self._msg(
                        "media",
                        media={
                            "track": "inbound",
                            "chunk": str(n),
                            "timestamp": str(n * 20),
                            "payload": base64.b64encode(frame).decode(),
                        },
                    )
                )
            except Exception:
                return
            await asyncio.sleep(max(0.0, start + n * FRAME_S - time.monotonic()))

    def _note_speech_start(self) -> None:
        """Speech starts after the padding trim_silence left before it."""
        turn = getattr(self, "_speech_turn", None)
        if turn is None or turn.speech_start:
            return
        if self._speech_frames_left <= 0:
            turn.speech_start = time.time()
        self._speech_frames_left -= 1

    async def _play_loop(self) -> None:
        """The handset plays what arrived at real time; a mark goes back when its audio has played."""
        start, n = time.monotonic(), 0
        while not self.done.is_set():
            while self.handset and self.handset[0][0] == "mark":
                _, name = self.handset.popleft()
                await self._echo_mark(name)
            if self.handset:
                self.handset.popleft()
            n += 1
            await asyncio.sleep(max(0.0, start + n * FRAME_S - time.monotonic()))

    def _hear(self, frames: list[bytes]) -> None:
        """Account for bot audio that just arrived: when each frame plays on the handset, whether
        it is speech, and which turn it answers."""
        now = time.time()
        turn, speaking = self.current, self.speaking
        ran_dry = 0.0 < self.play_end < now  # the handset went silent before this arrived
        if ran_dry and speaking is None and turn is not None and turn.first_reply is not None:
            turn.max_underrun_s = max(turn.max_underrun_s, now - self.play_end)  # a gap inside a reply
        start = max(now, self.play_end)
        offsets = np.cumsum([0] + [len(f) for f in frames]) / 8000  # mu-law: one byte a sample
        self.play_end = start + float(offsets[-1])
        for frame, offset in zip(frames, offsets, strict=False):
            if not is_speech(frame):
                continue
            plays_at = start + float(offset)
            if plays_at - self.last_speech_at > UTTERANCE_GAP_S:
                self.utterance_start = plays_at  # the bot starts saying something new
            self.last_speech_at = plays_at
            if (
                speaking is not None
                and speaking.speech_start
                and speaking.premature_at is None
                and self.utterance_start >= speaking.speech_start
            ):
                speaking.premature_at = plays_at
            if (
                turn is not None
                and turn.first_speech is None
                and turn.speech_end
                and plays_at >= turn.speech_end
            ):
                turn.first_speech = plays_at
        if speaking is not None and speaking.premature_at is not None:
            turn = speaking  # a reply to the question still being asked
        if turn is None:
            self.report.greeting_frames.extend(frames)
            return
        if turn.first_reply is None and turn.speech_end:
            turn.first_reply = now
        elif turn.last_frame_at:
            turn.max_gap_s = max(turn.max_gap_s, now - turn.last_frame_at)
        turn.last_frame_at = now
        turn.reply_frames.extend(frames)

    async def _echo_mark(self, name: str) -> None:
        self.report.marks_echoed.append(name)
        with contextlib.suppress(Exception):
            await self.ws.send(self._msg("mark", mark={"name": name}))

    async def _receive_loop(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                event = msg.get("event")
                if event == "media":
                    payload = base64.b64decode(msg["media"]["payload"])
                    # A peer may send 40 ms (or an odd length) at once: 20 ms pieces, unpadded.
                    frames = [payload[i : i + FRAME_BYTES] for i in range(0, len(payload), FRAME_BYTES)]
                    self.handset.extend(("audio", f) for f in frames)
                    self.last_audio_at = time.monotonic()
                    self._hear(frames)
                elif event == "mark":
                    self.handset.append(("mark", msg["mark"]["name"]))
                elif event == "clear":
                    self.report.clears.append(time.time())
                    self.play_end = self.last_speech_at = 0.0  # silent now: what comes next is new
                    if self.current is not None:
                        self.current.cleared = True
                    pending = [name for kind, name in self.handset if kind == "mark"]
                    self.handset.clear()
                    for name in pending:  # Twilio echoes the marks of cleared audio at once
                        await self._echo_mark(name)
        except Exception as exc:  # the server closed the stream
            self.report.close_code = getattr(getattr(exc, "rcvd", None), "code", None)
        self.report.closed_by_server = True
        if self.report.close_code is None and self.ws.close_code is not None:
            self.report.close_code = self.ws.close_code
