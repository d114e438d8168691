"""Integration API for other systems: transcribe and speak over plain HTTP."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from voice.audio import load_audio

router = APIRouter(prefix="/v1")
MAX_UPLOAD = 16 * 1024 * 1024
MEDIA_TYPES = {"wav": "audio/wav", "ogg": "audio/ogg", "mulaw": "audio/basic"}


async def _read_limited(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise HTTPException(413, f"audio larger than {limit // (1024 * 1024)} MB")
    return bytes(body)


@router.post("/transcribe")
async def transcribe(request: Request, lang: str = "auto") -> dict:
    """Body: the audio file itself (any format `voice transcribe` reads)."""
    ctype = request.headers.get("content-type", "")
    if ctype and not ctype.startswith(("audio/", "application/octet-stream", "video/")):
        raise HTTPException(415, f"send the audio file as the body (audio/*), not {ctype}")
    data = await _read_limited(request, MAX_UPLOAD)

    runtime = request.app.state.runtime

    def work() -> dict:
        audio = load_audio(data, name="upload")
        return runtime.recognizer(lang).transcribe(audio, lang).to_json()

    return await run_in_threadpool(work)


class SpeakRequest(BaseModel):
    text: str = Field(min_length=1, max_length=5000)
    lang: str
    format: Literal["wav", "ogg", "mulaw"] = "wav"


@router.post("/speak")
async def speak(req: SpeakRequest, request: Request) -> Response:
    runtime = request.app.state.runtime

    def work() -> bytes:
        from voice.audio import encode_audio

        return encode_audio(runtime.synthesizer(req.lang).synthesize_all(req.text), req.format)

    return Response(await run_in_threadpool(work), media_type=MEDIA_TYPES[req.format])
