"""WhatsApp webhooks: Twilio (form, X-Twilio-Signature) and Meta Cloud API (JSON, X-Hub-Signature-256).

Each message is stored as a job keyed by the provider's message id and acknowledged at once with
200; the worker (voice.messaging.worker) does the rest. A re-delivered id is acknowledged and
ignored. Meta delivery receipts (statuses) are acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from services.gateway.routes.twilio_voice import signed_form
from voice.messaging.inbound import Inbound, parse_meta, parse_twilio, store_inbound
from voice.metrics import MESSAGES

log = logging.getLogger(__name__)
router = APIRouter()
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _database(request: Request):
    runtime = request.app.state.runtime
    if not getattr(request.app.state, "messaging_schema_ready", False):
        from voice.messaging.jobs import ensure_schema

        ensure_schema(runtime.db)
        request.app.state.messaging_schema_ready = True
    return runtime.db


async def _store(request: Request, messages: list[Inbound]) -> int:
    """Store each message's job; how many were new. Wakes an in-process worker."""

    def work() -> int:
        db = _database(request)
        created = 0
        for message in messages:
            if store_inbound(db, message):
                created += 1
                MESSAGES.labels(message.provider, "received").inc()
                log.info("whatsapp %s: stored a new message (%s)", message.provider, message.kind)
            else:
                MESSAGES.labels(message.provider, "duplicate").inc()
                log.info("whatsapp %s: message already stored (re-delivery); ignored", message.provider)
        return created

    created = await run_in_threadpool(work)
    worker = getattr(request.app.state, "worker", None)
    if created and worker is not None:
        worker.wake()
    return created


@router.post("/twilio/whatsapp")
async def twilio_whatsapp(request: Request) -> Response:
    form = await signed_form(request)
    try:
        message = parse_twilio(form)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    await _store(request, [message])
    return Response(EMPTY_TWIML, media_type="application/xml")


@router.get("/whatsapp/meta")
async def meta_verify(request: Request) -> Response:
    """Meta's subscription handshake: echo hub.challenge when hub.verify_token is ours."""
    expected = request.app.state.settings.whatsapp_verify_token
    q = request.query_params
    token = q.get("hub.verify_token", "")
    if (
        not expected
        or q.get("hub.mode") != "subscribe"
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise HTTPException(403, "verification failed")
    return Response(q.get("hub.challenge", ""), media_type="text/plain")


def valid_meta_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


@router.post("/whatsapp/meta")
async def meta_webhook(request: Request) -> Response:
    body = await request.body()
    secret = request.app.state.settings.whatsapp_app_secret
    if not valid_meta_signature(secret, body, request.headers.get("X-Hub-Signature-256")):
        log.warning("rejected a Meta webhook with a missing or wrong signature")
        raise HTTPException(403, "invalid X-Hub-Signature-256")
    try:
        batch = parse_meta(json.loads(body))
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(400, f"not a WhatsApp webhook body: {exc}") from exc
    if batch.statuses:
        MESSAGES.labels("meta", "status").inc(batch.statuses)
    created = await _store(request, batch.messages)
    return Response(
        json.dumps({"received": len(batch.messages), "new": created, "statuses": batch.statuses}),
        media_type="application/json",
    )
