"""Twilio voice: the incoming-call webhook, the bidirectional media stream, status callbacks."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, HTTPException, Request, Response, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from voice.errors import UnknownLanguageError
from voice.packs import find_pack
from voice.packs.call import default_language
from voice.store.models import Call, CallToken
from voice.telephony.session import CallSession
from voice.telephony.twilio_media import TwilioCodec
from voice.telephony.twiml import connect_stream
from voice.telephony.webhook import public_url, valid_signature, websocket_url

log = logging.getLogger(__name__)
router = APIRouter(prefix="/twilio")
TWIML = "application/xml"


async def signed_form(request: Request) -> dict[str, str]:
    """The POSTed form, after checking X-Twilio-Signature against the public URL (403 if not)."""
    settings = request.app.state.settings
    form = {k: str(v) for k, v in (await request.form()).items()}
    url = public_url(settings.public_url, request.url.path, request.url.query)
    if not valid_signature(settings.signing_token(), url, form, request.headers.get("X-Twilio-Signature")):
        log.warning("rejected a Twilio webhook with a missing or wrong signature")
        raise HTTPException(403, "invalid Twilio signature")
    return form


def choose_language(request: Request, form: dict[str, str]) -> str:
    """?lang= first, then the dialled number's language, then the line's default (configured, else
    the installed packs' first by default_rank)."""
    call = request.app.state.settings.call
    for candidate in (request.query_params.get("lang"), call.numbers.get(form.get("To", ""))):
        pack = find_pack(candidate)
        if pack is not None:
            return pack.code
    try:
        return default_language(call.default_language)
    except UnknownLanguageError as exc:
        raise HTTPException(503, f"no language pack for this line: {exc}") from exc


@router.post("/voice")
async def incoming_call(request: Request) -> Response:
    form = await signed_form(request)
    call_sid = form.get("CallSid", "")
    if not call_sid:
        raise HTTPException(400, "CallSid missing")
    language = choose_language(request, form)
    token = secrets.token_urlsafe(24)
    runtime = request.app.state.runtime

    def store() -> None:
        with runtime.db.session() as s:
            s.add(CallToken(token=token, call_sid=call_sid, language=language, caller=form.get("From", "")))

    await run_in_threadpool(store)
    stream_url = websocket_url(runtime.settings.public_url, "/twilio/media")
    return Response(connect_stream(stream_url, {"lang": language, "token": token}), media_type=TWIML)


@router.websocket("/media")
async def media_stream(websocket: WebSocket) -> None:
    await websocket.accept()
    session = CallSession(websocket.app.state.runtime, TwilioCodec(), websocket_sender(websocket))
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            raw = message.get("text") or message.get("bytes") or ""
            if not await session.handle(raw):
                await websocket.close(code=1008 if session.start is None else 1000)
                break
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()


def websocket_sender(websocket: WebSocket):
    """`send(message)` for a call session: text frames for str, binary frames for bytes."""

    async def send(message: str | bytes) -> None:
        if isinstance(message, bytes):
            await websocket.send_bytes(message)
        else:
            await websocket.send_text(message)

    return send


@router.post("/status")
async def call_status(request: Request) -> Response:
    form = await signed_form(request)
    status, call_sid = form.get("CallStatus", ""), form.get("CallSid", "")
    if status in ("completed", "busy", "failed", "no-answer", "canceled") and call_sid:
        runtime = request.app.state.runtime

        def store() -> None:
            from sqlalchemy import select

            with runtime.db.session() as s:
                call = s.scalar(select(Call).where(Call.call_sid == call_sid))
                if call is not None and call.outcome is None and status != "completed":
                    call.outcome = "abandoned"

        await run_in_threadpool(store)
    return Response(status_code=204)
