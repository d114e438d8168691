"""The caller-side measurements the call-latency bench relies on, against a scripted local bot.

bench/call_latency.py compares our gateway with a Pipecat bot only through what the simulated
caller hears, so those measurements must be right for any bot's sending habits: the first reply
frame that carries speech (not leading silence), clocked when the handset plays it (a bot may send
40 ms messages at twice real time, as Pipecat's websocket transport does); bot speech that starts
inside a pause of the question (premature); silence inside a reply because audio came late. The
bot here answers with known timing and no models, so the test is quick.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import Response
from starlette.websockets import WebSocketDisconnect

from voice.audio import Audio, encode_audio
from voice.audio.frames import FRAME_BYTES, frame_bytes
from voice.telephony.simulator import (
    SILENCE,
    SimulatedCaller,
    Speak,
    Sync,
    SyncGroup,
    is_speech,
)
from voice.telephony.twilio_standin import BackgroundServer


def tone(seconds: float, rate: int = 16000, amplitude: float = 0.3) -> Audio:
    """Speech enough for an energy detector: a 300 Hz tone."""
    t = np.arange(int(seconds * rate)) / rate
    return Audio((amplitude * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate)


def mulaw_frames(audio: Audio) -> list[bytes]:
    return list(frame_bytes(encode_audio(audio.to_rate(8000), "mulaw"), FRAME_BYTES))


@dataclass
class Habit:
    """How the scripted bot answers: after `quiet_s` of caller silence, wait `wait_s`, then send
    `lead_s` of silence and `reply_s` of tone, `chunk` frames a message at `speed` x real time,
    stalling `stall_s` after the 10th frame."""

    quiet_s: float
    wait_s: float = 0.0
    lead_s: float = 0.0
    reply_s: float = 0.4
    chunk: int = 1
    speed: float = 1.0
    stall_s: float = 0.0


HABITS = {
    # Pipecat-like: 40 ms messages at twice real time, 200 ms of silence before the words.
    "ahead": Habit(quiet_s=0.2, wait_s=0.1, lead_s=0.2, chunk=2, speed=2.0),
    # Answers 150 ms into any silence: inside the caller's mid-sentence pause.
    "eager": Habit(quiet_s=0.15, reply_s=0.3),
    # Real time, one frame a message, with a 150 ms stall inside the reply.
    "stall": Habit(quiet_s=0.2, reply_s=0.6, stall_s=0.15),
}


async def _send(ws: WebSocket, sid: str, frames: list[bytes], habit: Habit) -> None:
    interval = habit.chunk * 0.02 / habit.speed
    for i in range(0, len(frames), habit.chunk):
        payload = base64.b64encode(b"".join(frames[i : i + habit.chunk])).decode()
        await ws.send_text(json.dumps({"event": "media", "streamSid": sid, "media": {"payload": payload}}))
        await asyncio.sleep(interval + (habit.stall_s if i + habit.chunk == 10 else 0.0))


def scripted_bot() -> FastAPI:
    app = FastAPI()

    @app.post("/{habit}/twilio/voice")
    async def voice(habit: str, request: Request) -> Response:
        url = f"ws://{request.headers['host']}/ws/{habit}"
        return Response(
            f'<Response><Connect><Stream url="{url}"/></Connect></Response>', media_type="text/xml"
        )

    @app.websocket("/ws/{name}")
    async def media(ws: WebSocket, name: str) -> None:
        habit = HABITS[name]
        await ws.accept()
        sid, talking, last_loud = "", False, 0.0
        tasks: list[asyncio.Task] = []
        reply = [SILENCE] * round(habit.lead_s / 0.02) + mulaw_frames(tone(habit.reply_s, 8000))
        try:
            async for text in ws.iter_text():
                msg = json.loads(text)
                if msg["event"] == "start":
                    sid = msg["start"]["streamSid"]
                    tasks.append(
                        asyncio.create_task(_send(ws, sid, mulaw_frames(tone(0.4, 8000)), HABITS["ahead"]))
                    )
                elif msg["event"] == "media":
                    now = time.monotonic()
                    if is_speech(base64.b64decode(msg["media"]["payload"])):
                        talking, last_loud = True, now
                    elif talking and now - last_loud >= habit.quiet_s:
                        talking = False
                        await asyncio.sleep(habit.wait_s)
                        tasks.append(asyncio.create_task(_send(ws, sid, reply, habit)))
                elif msg["event"] == "stop":
                    break
        except WebSocketDisconnect:
            pass
        for t in tasks:
            t.cancel()

    return app


@pytest.fixture(scope="module")
def calls() -> dict:
    """One call per habit, all at once: a plain question to `ahead` and `stall`; a question with a
    600 ms pause inside to `eager`, and one with a 150 ms pause (shorter than it waits) to `ahead`.
    """
    with BackgroundServer(scripted_bot()) as server:

        async def run() -> dict:
            group = SyncGroup(3)
            scripts = {
                "ahead": [Sync(group), Speak(tone(1.0)), Speak.parts(tone(0.6), 0.15, tone(0.6))],
                "eager": [Sync(group), Speak.parts(tone(0.6), 0.6, tone(0.6))],
                "stall": [Sync(group), Speak(tone(1.0))],
            }
            callers = {
                h: SimulatedCaller(f"{server.url}/{h}", "AC" + "0" * 32, "x", reply_timeout_s=10)
                for h in scripts
            }
            reports = await asyncio.gather(*(callers[h].run(s) for h, s in scripts.items()))
            return dict(zip(scripts, reports, strict=True)) | {"group": group}

        return asyncio.run(run())


def test_speech_detection_by_energy():
    assert not is_speech(SILENCE)
    assert not is_speech(b"")
    assert all(is_speech(f) for f in mulaw_frames(tone(0.1, 8000)))
    hiss = Audio(np.random.default_rng(0).normal(0, 0.002, 8000).astype(np.float32), 8000)
    assert not any(is_speech(f) for f in mulaw_frames(hiss))


def test_speak_parts_puts_an_exact_pause_inside():
    step = Speak.parts(tone(0.6), 0.5, tone(0.4))
    assert step.pauses_s == [0.5]
    assert abs(step.audio.duration - 1.5) < 0.02
    silent = np.abs(step.audio.samples) < 1e-4
    assert silent[int(0.65 * 16000) : int(1.05 * 16000)].all()


def test_first_speech_is_clocked_by_play_out_after_leading_silence(calls):
    plain, paused = calls["ahead"].turns
    assert calls["ahead"].greeting_frames and calls["group"].released.is_set()
    # The bot's first frame comes 0.2 s (quiet) + 0.1 s (wait) after speech; its words 0.2 s later
    # on the handset, although it sent that silence at twice real time.
    assert 0.2 <= plain.latency_s <= 0.5
    assert abs((plain.speech_latency_s - plain.latency_s) - 0.2) <= 0.05
    assert not plain.premature and plain.max_underrun_s <= 0.03
    assert paused.pauses_s == [0.15] and not paused.premature  # it waits for 0.2 s of quiet
    assert paused.speech_latency_s is not None and len(calls["ahead"].turns) == 2


def test_reply_inside_the_pause_is_premature(calls):
    (turn,) = calls["eager"].turns
    assert turn.premature
    assert turn.speech_start + 0.6 < turn.premature_at < turn.speech_end  # inside the pause
    # The bot answers again once the question is over: that later reply is the turn's latency.
    assert turn.speech_latency_s is not None and 0.1 <= turn.speech_latency_s <= 0.5


def test_a_stall_inside_the_reply_is_a_gap(calls):
    (turn,) = calls["stall"].turns
    assert not turn.premature
    assert 0.1 <= turn.max_underrun_s <= 0.25
    assert len(turn.reply_frames) == 30  # 0.6 s in 20 ms frames, all heard
