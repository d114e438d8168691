"""A call's teardown leaves nothing behind: no task, no agent thread at work, no audio buffer.

Drives the real CallSession (real models, real database) with Twilio protocol messages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import pytest

from services.gateway.runtime import Runtime
from tests.conftest import espeak
from voice.audio import Audio, encode_audio
from voice.audio.frames import frame_bytes
from voice.config import Settings
from voice.store.models import CallToken
from voice.telephony.session import CallSession
from voice.telephony.twilio_media import TwilioCodec

pytestmark = pytest.mark.slow


def media(frame: bytes, n: int) -> str:
    return json.dumps(
        {
            "event": "media",
            "streamSid": "MZ1",
            "media": {
                "track": "inbound",
                "chunk": str(n),
                "timestamp": str(20 * n),
                "payload": base64.b64encode(frame).decode(),
            },
        }
    )


START = json.dumps(
    {
        "event": "start",
        "streamSid": "MZ1",
        "start": {
            "streamSid": "MZ1",
            "callSid": "CA-teardown",
            "accountSid": "AC1",
            "customParameters": {"token": "tok"},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }
)
STOP = json.dumps({"event": "stop", "streamSid": "MZ1", "stop": {"callSid": "CA-teardown"}})


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(Settings(VOICE_DB_URL=f"sqlite:///{tmp_path / 'v.db'}", paths={"data_dir": tmp_path}))
    yield rt
    rt.close()


def _token(rt: Runtime) -> None:
    with rt.db.session() as s:
        s.add(CallToken(token="tok", call_sid="CA-teardown", language="eng", caller="+221700000001"))


@pytest.mark.parametrize("when", ["mid-utterance", "mid-turn"])
def test_stop_leaves_nothing_behind(runtime, when):
    _token(runtime)
    speech = Audio.concat([espeak("What is the balance of my account?"), Audio.silence(1.2)])
    frames = list(frame_bytes(encode_audio(speech, "mulaw")))
    if when == "mid-utterance":
        frames = frames[: len(frames) // 3]  # the caller is cut off while speaking

    async def call() -> CallSession:
        sent: list[str] = []

        async def send(text: str) -> None:
            sent.append(text)

        before = set(asyncio.all_tasks())
        session = CallSession(runtime, TwilioCodec(), send)
        assert await session.handle(json.dumps({"event": "connected", "protocol": "Call"}))
        assert await session.handle(START)
        for n, frame in enumerate(frames):
            await session.handle(media(frame, n))
            await asyncio.sleep(0)  # let the pacer run, as the real receive loop would
        if when == "mid-turn":
            assert session._turn_task is not None, "the end of speech started a turn"
        assert await session.handle(STOP) is False
        await session.close()
        leftover = [t for t in asyncio.all_tasks() if t not in before and t is not asyncio.current_task()]
        assert leftover == [], f"tasks left after teardown: {leftover}"
        assert session.player._task.done()
        assert session._endpointer is None and session._line is None
        return session

    asyncio.run(call())
    # The turn thread saw the cancel flag and returned.
    deadline = time.monotonic() + 20
    while runtime.lanes.turns.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert runtime.lanes.turns.pending == 0
    with runtime.db.session() as s:
        from sqlalchemy import select

        from voice.store.models import Call

        call = s.scalar(select(Call).where(Call.call_sid == "CA-teardown"))
        assert call.ended_at is not None and call.outcome in ("abandoned", "completed")
