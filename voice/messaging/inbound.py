"""Inbound WhatsApp messages: the two providers' webhook shapes -> one `Inbound` -> one stored job.

Twilio posts a form (From `whatsapp:+...`, MessageSid, Body, NumMedia, MediaUrl0,
MediaContentType0, MessageType); Meta posts JSON (entry[].changes[].value with metadata,
contacts, messages[] and statuses[]). A job is keyed by (provider, the provider's message id):
a re-delivered message hits the unique constraint and is acknowledged without a second job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from voice.store.db import Database
from voice.store.models import MessageJob

log = logging.getLogger(__name__)

AUDIO, TEXT, OTHER = "audio", "text", "other"
# Meta message types answered as text: what the customer typed or tapped.
_META_TEXT_TYPES = ("text", "button", "interactive")


@dataclass
class Inbound:
    provider: str  # twilio | meta
    message_id: str  # Twilio MessageSid / Meta wamid
    sender: str  # E.164, "+221..."
    kind: str  # audio | text | other
    payload: dict = field(default_factory=dict)


def e164(address: str) -> str:
    """'whatsapp:+221700000001' (Twilio) or '221700000001' (Meta wa_id) -> '+221700000001'."""
    number = address.strip()
    if number.lower().startswith("whatsapp:"):
        number = number[len("whatsapp:") :]
    number = number.strip()
    return number if number.startswith("+") or not number else f"+{number}"


def parse_twilio(form: dict[str, str]) -> Inbound:
    """One Twilio WhatsApp webhook form -> Inbound. Raises ValueError without a MessageSid."""
    message_id = form.get("MessageSid") or form.get("SmsMessageSid") or ""
    if not message_id:
        raise ValueError("MessageSid missing")
    try:
        num_media = int(form.get("NumMedia") or 0)
    except ValueError:
        num_media = 0
    content_type = (form.get("MediaContentType0") or "").lower()
    body = form.get("Body") or ""
    message_type = (form.get("MessageType") or "").lower()
    if num_media > 0:
        kind = AUDIO if content_type.startswith("audio/") else OTHER
    elif body.strip() and message_type in ("", "text", "button", "interactive"):
        kind = TEXT
    else:
        kind = OTHER
    payload = {
        "to": form.get("To", ""),  # our WhatsApp number: the From of the reply
        "from": form.get("From", ""),
        "body": body,
        "media_url": form.get("MediaUrl0") if num_media else None,
        "media_type": content_type or None,
        "num_media": num_media,
        "type": message_type or (content_type.split("/")[0] if num_media else "text"),
    }
    return Inbound("twilio", message_id, e164(form.get("From", "")), kind, payload)


@dataclass
class MetaBatch:
    messages: list[Inbound] = field(default_factory=list)
    statuses: int = 0  # delivery receipts (sent/delivered/read/played/failed): acknowledged, ignored
    ignored: int = 0  # reactions and system notices: nothing to answer


def parse_meta(data: dict) -> MetaBatch:
    """A Meta Cloud API webhook body -> its messages (statuses are counted, not stored)."""
    batch = MetaBatch()
    if not isinstance(data, dict):
        raise ValueError("the webhook body is not a JSON object")
    for entry in data.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            metadata = value.get("metadata") or {}
            batch.statuses += len(value.get("statuses") or [])
            for m in value.get("messages") or []:
                inbound = _meta_message(m, metadata)
                if inbound is None:
                    batch.ignored += 1
                else:
                    batch.messages.append(inbound)
    return batch


def _meta_message(m: dict, metadata: dict) -> Inbound | None:
    message_id, wa_id, mtype = m.get("id"), m.get("from"), m.get("type", "")
    if not message_id or not wa_id:
        return None
    if mtype in ("reaction", "system", "ephemeral"):
        return None  # an emoji on our reply, a number change: nothing to answer
    payload: dict = {
        "phone_number_id": metadata.get("phone_number_id", ""),
        "display_phone_number": metadata.get("display_phone_number", ""),
        "wa_id": wa_id,
        "type": mtype,
    }
    if mtype == "audio":
        audio = m.get("audio") or {}
        payload.update(
            media_id=audio.get("id"),
            media_type=audio.get("mime_type"),
            sha256=audio.get("sha256"),
            voice=bool(audio.get("voice")),
        )
        kind = AUDIO if audio.get("id") else OTHER
    elif mtype in _META_TEXT_TYPES:
        body = _meta_text(m)
        payload["body"] = body
        kind = TEXT if body.strip() else OTHER
    else:  # image, sticker, video, document, location, contacts, order, unsupported ...
        media = m.get(mtype) if isinstance(m.get(mtype), dict) else {}
        payload["media_type"] = media.get("mime_type")
        kind = OTHER
    return Inbound("meta", message_id, e164(wa_id), kind, payload)


def _meta_text(m: dict) -> str:
    mtype = m.get("type")
    if mtype == "text":
        return (m.get("text") or {}).get("body") or ""
    if mtype == "button":
        return (m.get("button") or {}).get("text") or ""
    interactive = m.get("interactive") or {}
    reply = interactive.get("button_reply") or interactive.get("list_reply") or {}
    return reply.get("title") or ""


def store_inbound(db: Database, message: Inbound) -> bool:
    """Store a job for `message`; False when this message id was already stored (a re-delivery)."""
    try:
        with db.session() as s:
            s.add(
                MessageJob(
                    provider=message.provider,
                    message_id=message.message_id,
                    sender=message.sender,
                    kind=message.kind,
                    payload=message.payload,
                    state="received",
                    attempts=0,
                    timings={},
                )
            )
    except IntegrityError:
        return False
    return True
