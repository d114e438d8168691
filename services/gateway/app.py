"""Build the gateway app: one router per area, the library does the work."""

from __future__ import annotations

import hmac
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from services.gateway.routes import calls, chat, health, integration, media, packs, twilio_voice, whatsapp
from services.gateway.runtime import Runtime
from voice import __version__
from voice.config import Settings, get_settings
from voice.errors import BadInputError, VoiceError


async def require_api_token(request: Request) -> None:
    token = request.app.state.settings.api_token
    if token and not hmac.compare_digest(request.headers.get("authorization", ""), f"Bearer {token}"):
        raise HTTPException(401, "this API needs Authorization: Bearer <VOICE_API_TOKEN>")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = app.state.runtime
        if settings.warm_up:
            runtime.lanes.asr.submit(runtime.warm_up)  # model loading queues like ASR work
        worker = None
        if settings.messaging.worker:  # WhatsApp jobs; off when `voice worker` runs them apart
            from voice.messaging.worker import start_worker

            worker = app.state.worker = start_worker(app.state.runtime)
        yield
        if worker is not None:
            worker.stop()
        app.state.runtime.close()

    app = FastAPI(title="teranga-voice gateway", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.runtime = Runtime(settings)
    app.include_router(health.router)
    api = [Depends(require_api_token)]
    app.include_router(integration.router, dependencies=api)
    app.include_router(chat.router, dependencies=api)
    app.include_router(calls.router, dependencies=api)
    app.include_router(twilio_voice.router)
    app.include_router(whatsapp.router)
    app.include_router(media.router)
    app.include_router(packs.router)

    @app.exception_handler(BadInputError)
    async def _bad_input(_: Request, exc: BadInputError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=422)

    @app.exception_handler(VoiceError)
    async def _internal(_: Request, exc: VoiceError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503)

    return app
