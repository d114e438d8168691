"""A stock Pipecat Twilio bot with local services: the peer that bench/call_latency.py calls.

Run by the Python of the peer's own venv (bench/peers/pipecat_peer.py makes it), never ours, so
it imports Pipecat and nothing from the `voice` package. Its shape is Pipecat's `twilio-chatbot`
example: FastAPI answers the voice webhook with TwiML whose `<Stream>` points at `/ws`; each
websocket gets its own transport with a `TwilioFrameSerializer`, its own services and pipeline

    transport.input() -> WhisperSTTService -> user aggregator (Silero VAD + the default
    Smart Turn v3 stop strategy) -> fixed answer -> espeak-ng TTS -> transport.output()
    -> assistant aggregator

What differs from the example is only what must run offline and answer like our FAQ bench: the
same whisper-base int8 CTranslate2 weights as the project (a local directory), espeak-ng instead
of a cloud TTS, and one fixed sentence instead of an LLM. The pipeline takes 16 kHz in (what
Whisper and Smart Turn read; the serializer upsamples Twilio's 8 kHz) and 8 kHz out. Hang-up
through Twilio's REST API is off: there is no Twilio here. It greets on connect, as the example's
bot introduces itself, so the caller hears it answer before asking.

`GET /v1/calls/{call_sid}` returns the turns as our gateway does, so the bench reads what this
bot transcribed through the same simulator code path.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator

import uvicorn
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import Response
from loguru import logger
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.frames.frames import (
    ErrorFrame,
    Frame,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMTextFrame,
    TTSSpeakFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.services.settings import TTSSettings
from pipecat.services.tts_service import TTSService
from pipecat.services.whisper.stt import WhisperSTTService
from pipecat.transcriptions.language import Language
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams, FastAPIWebsocketTransport
from pipecat.workers.runner import WorkerRunner

WAV_HEADER_BYTES = 44  # espeak-ng --stdout writes a plain 44-byte RIFF header, then 16-bit PCM
CALLS: dict[str, list[dict]] = {}  # call_sid -> stored turns, read back by the bench


class EspeakTTSService(TTSService):
    """espeak-ng as a Pipecat TTS service: its PCM streams out as it is produced."""

    def __init__(self, *, voice: str = "en-us", rate: int = 160, **kwargs):
        settings = TTSSettings(model=None, voice=voice, language=None)  # all set, as Pipecat asks
        super().__init__(push_start_frame=True, push_stop_frames=True, settings=settings, **kwargs)
        self._voice, self._rate = voice, rate

    def can_generate_metrics(self) -> bool:
        return True

    async def run_tts(self, text: str, context_id: str) -> AsyncGenerator[Frame, None]:
        proc = await asyncio.create_subprocess_exec(
            "espeak-ng",
            "-v",
            self._voice,
            "-s",
            str(self._rate),
            "--stdout",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(text.encode())
        proc.stdin.close()
        try:
            header = await proc.stdout.readexactly(WAV_HEADER_BYTES)
        except asyncio.IncompleteReadError:
            yield ErrorFrame(error=f"espeak-ng gave no audio for {text!r}")
            return
        rate = int.from_bytes(header[24:28], "little")

        async def chunks(stream: asyncio.StreamReader) -> AsyncIterator[bytes]:
            while chunk := await stream.read(4096):
                yield chunk

        await self.start_tts_usage_metrics(text)
        async for frame in self._stream_audio_frames_from_iterator(
            chunks(proc.stdout), in_sample_rate=rate, context_id=context_id
        ):
            await self.stop_ttfb_metrics()
            yield frame
        await proc.wait()


class FixedAnswer(FrameProcessor):
    """Stands where the example's LLM stands: every user turn the aggregator completes gets the
    same sentence, and the turn is stored for the bench."""

    def __init__(self, answer: str, turns: list[dict], **kwargs):
        super().__init__(**kwargs)
        self._answer, self._turns = answer, turns

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if not isinstance(frame, LLMContextFrame):
            await self.push_frame(frame, direction)
            return
        if frame.speculation:  # not part of the conversation until confirmed; answer the real turn
            return
        heard = _last_user_text(frame.context)
        self._turns.append(
            {
                "index": len(self._turns) + 1,
                "caller_text": heard,
                "bot_text": self._answer,
                "route": "fixed",
                "timings": {"answered_at": time.time()},
            }
        )
        await self.push_frame(LLMFullResponseStartFrame())
        await self.push_frame(LLMTextFrame(self._answer))
        await self.push_frame(LLMFullResponseEndFrame())


def _last_user_text(context: LLMContext) -> str:
    for message in reversed(context.get_messages()):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content.strip()
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict)).strip()
    return ""


async def run_bot(websocket: WebSocket, opts: argparse.Namespace) -> None:
    """One call, built as the example builds it: services and pipeline per connection."""
    _, call_data = await parse_telephony_websocket(websocket)
    call_sid = str(call_data["call_id"])
    turns = CALLS.setdefault(call_sid, [])
    serializer = TwilioFrameSerializer(
        stream_sid=call_data["stream_id"],
        call_sid=call_sid,
        params=TwilioFrameSerializer.InputParams(auto_hang_up=False),
    )
    transport = FastAPIWebsocketTransport(
        websocket=websocket,
        params=FastAPIWebsocketParams(
            audio_in_enabled=True, audio_out_enabled=True, add_wav_header=False, serializer=serializer
        ),
    )
    stt = WhisperSTTService(
        device="cpu",
        compute_type="int8",
        settings=WhisperSTTService.Settings(model=opts.model, language=Language.EN),
    )
    tts = EspeakTTSService(voice=opts.voice, rate=opts.rate)
    context = LLMContext()
    user_aggregator, assistant_aggregator = LLMContextAggregatorPair(
        context, user_params=LLMUserAggregatorParams(vad_analyzer=SileroVADAnalyzer())
    )
    pipeline = Pipeline(
        [
            transport.input(),
            stt,
            user_aggregator,
            FixedAnswer(opts.answer, turns),
            tts,
            transport.output(),
            assistant_aggregator,
        ]
    )
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=16000, audio_out_sample_rate=8000, enable_metrics=True),
        idle_timeout_secs=300,
    )

    @transport.event_handler("on_client_connected")
    async def on_client_connected(_transport, _client) -> None:
        await worker.queue_frames([TTSSpeakFrame(opts.greeting)])

    @transport.event_handler("on_client_disconnected")
    async def on_client_disconnected(_transport, _client) -> None:
        await worker.cancel()

    runner = WorkerRunner(handle_sigint=False, force_gc=True)
    await runner.add_workers(worker)
    await runner.run()


def make_app(opts: argparse.Namespace) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"ok": True}

    @app.post("/twilio/voice")
    async def voice(request: Request) -> Response:
        host = request.headers.get("host", f"127.0.0.1:{opts.port}")
        stream = f'<Stream url="ws://{host}/ws"></Stream>'
        twiml = f'<?xml version="1.0" encoding="UTF-8"?><Response><Connect>{stream}</Connect></Response>'
        return Response(twiml, media_type="application/xml")

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await run_bot(websocket, opts)

    @app.get("/v1/calls/{call_sid}")
    async def call(call_sid: str) -> dict:
        if call_sid not in CALLS:
            raise HTTPException(404, "no such call")
        return {"call_sid": call_sid, "turns": CALLS[call_sid]}

    return app


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--model", required=True, help="a local CTranslate2 Whisper directory")
    ap.add_argument("--answer", default="Your balance is one thousand two hundred and fifty CFA francs.")
    ap.add_argument("--greeting", default="Hello, welcome to customer service. How can I help you?")
    ap.add_argument("--voice", default="en-us")
    ap.add_argument("--rate", type=int, default=160)
    ap.add_argument("--log-level", default="INFO")
    opts = ap.parse_args()
    logger.remove()
    logger.add(sys.stderr, level=opts.log_level)
    uvicorn.run(make_app(opts), host="127.0.0.1", port=opts.port, log_level="warning")


if __name__ == "__main__":
    main()
