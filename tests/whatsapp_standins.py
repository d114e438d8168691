"""Local stand-ins for Twilio's REST API + media host and Meta's Graph API (WhatsApp Cloud API).

Each is a real HTTP server on 127.0.0.1 (run with BackgroundServer) that speaks the provider's
documented wire format and checks our credentials the way the provider does:
- Twilio: HTTP Basic (account SID, auth token) on the Messages API and on media URLs; a media URL
  answers 307 to an unauthenticated store (like Twilio's redirect to its media store); replies
  with MediaUrl are fetched like Twilio does, and must be served as audio/ogg.
- Meta: Bearer access token on GET /{media-id} (JSON with a short-lived `url`), on that url, on
  POST /{phone-number-id}/media (multipart) and POST /{phone-number-id}/messages (JSON).
Our code reaches them only through TWILIO_API_BASE_URL and WHATSAPP_GRAPH_URL.

Both can be told to fail (5xx, 4xx, expired media, oversized bodies) or to hold a request until the
test releases it, and record what they accepted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import io
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

import av
import httpx
import numpy as np
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse, StreamingResponse
from twilio.request_validator import RequestValidator

from voice.audio import Audio, encode_audio

# -- media the stand-ins serve as "inbound" ------------------------------------------------------------


@dataclass
class InboundMedia:
    data: bytes
    content_type: str
    status: int = 200  # 404/410: expired; 5xx: transient
    chunked_bytes: int = 0  # > 0: ignore `data`, stream this many bytes without Content-Length
    declared_bytes: int = 0  # > 0: stream `data` padded to this size with Content-Length
    served: int = 0  # bytes actually written to the client (oversize tests)
    requests: int = 0


def encode_as(audio: Audio, fmt: str) -> tuple[bytes, str]:
    """Encode speech the way phones send it: ogg (Opus), amr (AMR-NB 8 kHz), aac (ADTS), mp3."""
    if fmt == "ogg":
        return encode_audio(audio, "ogg"), "audio/ogg"
    spec = {
        "amr": ("amr", "libopencore_amrnb", 8000, "audio/amr", 12200),
        "aac": ("adts", "aac", 16000, "audio/aac", 48000),
        "mp3": ("mp3", "libmp3lame", 16000, "audio/mpeg", 48000),
    }[fmt]
    container_fmt, codec, rate, mime, bitrate = spec
    samples = np.clip(audio.to_rate(rate).samples, -1, 1)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container_fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "mono"
        stream.bit_rate = bitrate
        frame_size = stream.codec_context.frame_size or 1024
        pcm = (samples * 32767).astype(np.int16)
        for start in range(0, len(pcm), frame_size):
            chunk = pcm[start : start + frame_size]
            if len(chunk) < frame_size:
                chunk = np.pad(chunk, (0, frame_size - len(chunk)))
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue(), mime


def is_ogg_opus_mono(data: bytes) -> bool:
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.audio[0]
        return c.format.name == "ogg" and s.codec_context.name == "opus" and s.codec_context.channels == 1


async def _serve(item: InboundMedia, hold: threading.Event | None) -> Response:
    item.requests += 1
    if hold is not None:
        await asyncio.to_thread(hold.wait, 120)
    if item.status >= 400:
        return JSONResponse({"message": "not found", "status": item.status}, status_code=item.status)
    if item.chunked_bytes or item.declared_bytes:
        total = item.chunked_bytes or item.declared_bytes

        async def body():
            chunk = b"\0" * 65536
            sent = 0
            while sent < total:
                piece = chunk[: min(len(chunk), total - sent)]
                sent += len(piece)
                item.served = sent
                yield piece
                await asyncio.sleep(0)

        headers = {"Content-Length": str(total)} if item.declared_bytes else {}
        return StreamingResponse(body(), media_type=item.content_type, headers=headers)
    item.served = len(item.data)
    return Response(item.data, media_type=item.content_type)


# -- Twilio -----------------------------------------------------------------------------------------------


@dataclass
class TwilioMessage:
    sid: str
    form: dict[str, str]
    media: bytes | None = None  # what Twilio fetched from MediaUrl
    media_type: str | None = None
    media_status: int | None = None


@dataclass
class TwilioWhatsAppStandIn:
    account_sid: str
    auth_token: str
    base_url: str = ""
    messages: list[TwilioMessage] = field(default_factory=list)  # accepted outbound messages
    unauthorized: int = 0
    fail_next: list[int] = field(default_factory=list)  # statuses for the next Messages POSTs
    reject_next: list[int] = field(default_factory=list)  # 4xx Twilio error codes for the next POSTs
    media: dict[str, InboundMedia] = field(default_factory=dict)
    hold_media: threading.Event | None = None  # media downloads wait for this when set
    hold_voice_sends: threading.Event | None = None  # MediaUrl sends wait for this when set
    delay_next: list[float] = field(default_factory=list)  # seconds the next Messages POSTs stall
    media_requests: list[str] = field(default_factory=list)

    def _authorized(self, account: str, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        ok = account == self.account_sid and request.headers.get("authorization") == f"Basic {expected}"
        if not ok:
            self.unauthorized += 1
        return ok

    @staticmethod
    def _error(status: int, code: int, message: str) -> JSONResponse:
        body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}"}
        return JSONResponse({**body, "status": status}, status_code=status)

    def add_media(self, message_sid: str, data: bytes, content_type: str, **behaviour) -> str:
        media_sid = "ME" + secrets.token_hex(16)
        self.media[media_sid] = InboundMedia(data, content_type, **behaviour)
        return (
            f"{self.base_url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}/Media/{media_sid}"
        )

    def texts(self, to: str | None = None) -> list[TwilioMessage]:
        return [
            m for m in self.messages if "Body" in m.form and (to is None or m.form["To"] == f"whatsapp:{to}")
        ]

    def voices(self, to: str | None = None) -> list[TwilioMessage]:
        return [
            m
            for m in self.messages
            if "MediaUrl" in m.form and (to is None or m.form["To"] == f"whatsapp:{to}")
        ]

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{account}/Messages.json")
        async def create_message(account: str, request: Request) -> Response:
            if not self._authorized(account, request):
                return self._error(401, 20003, "Authenticate")
            form = {k: str(v) for k, v in (await request.form()).items()}
            if self.fail_next:
                return self._error(self.fail_next.pop(0), 20500, "Internal Server Error")
            if self.reject_next:
                return self._error(
                    400, self.reject_next.pop(0), "The 'To' number is not a valid WhatsApp user"
                )
            if not form.get("From", "").startswith("whatsapp:") or not form.get("To", "").startswith(
                "whatsapp:+"
            ):
                return self._error(400, 21910, "Invalid From and To pair for a WhatsApp message")
            if bool(form.get("Body")) == bool(form.get("MediaUrl")):
                return self._error(400, 21619, "A text message body or media urls must be specified")
            stall = self.delay_next.pop(0) if self.delay_next else 0.0
            if stall:
                await asyncio.sleep(stall)
            if "MediaUrl" in form and self.hold_voice_sends is not None:
                await asyncio.to_thread(self.hold_voice_sends.wait, 120)
            if (stall or self.hold_voice_sends is not None) and await request.is_disconnected():
                return Response(status_code=499)  # the client gave up before we answered: not accepted
            message = TwilioMessage("SM" + secrets.token_hex(16), form)
            if "MediaUrl" in form:  # Twilio fetches the media from the public URL, without auth
                async with httpx.AsyncClient(timeout=30) as client:
                    r = await client.get(form["MediaUrl"])
                message.media_status = r.status_code
                if r.status_code == 200:
                    message.media, message.media_type = r.content, r.headers.get("content-type")
            self.messages.append(message)
            body = {
                "sid": message.sid,
                "account_sid": account,
                "from": form["From"],
                "to": form["To"],
                "body": form.get("Body", ""),
                "num_media": "1" if "MediaUrl" in form else "0",
                "status": "queued",
                "api_version": "2010-04-01",
            }
            return JSONResponse(body, status_code=201)

        @app.get("/2010-04-01/Accounts/{account}/Messages/{message_sid}/Media/{media_sid}")
        async def media(account: str, message_sid: str, media_sid: str, request: Request) -> Response:
            if not self._authorized(account, request):
                return self._error(401, 20003, "Authenticate")
            self.media_requests.append(media_sid)
            item = self.media.get(media_sid)
            if item is None:
                return self._error(404, 20404, "The requested resource was not found")
            if self.hold_media is not None:
                await asyncio.to_thread(self.hold_media.wait, 120)
            if item.status >= 400:
                return self._error(item.status, 20404, "The requested resource was not found")
            # Like Twilio: a redirect to the media store, which needs no credentials.
            return RedirectResponse(f"/media-store/{media_sid}", status_code=307)

        @app.get("/media-store/{media_sid}")
        async def media_store(media_sid: str) -> Response:
            item = self.media.get(media_sid)
            if item is None:
                return Response(status_code=404)
            return await _serve(item, None)

        return app


def twilio_inbound(
    message_sid: str,
    sender: str,
    ours: str,
    account_sid: str,
    body: str = "",
    media_url: str | None = None,
    content_type: str | None = None,
    message_type: str | None = None,
) -> dict[str, str]:
    """The form Twilio posts for an incoming WhatsApp message."""
    form = {
        "SmsMessageSid": message_sid,
        "MessageSid": message_sid,
        "SmsSid": message_sid,
        "AccountSid": account_sid,
        "From": f"whatsapp:{sender}",
        "To": f"whatsapp:{ours}",
        "WaId": sender.lstrip("+"),
        "ProfileName": "Awa",
        "Body": body,
        "NumMedia": "1" if media_url else "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        "MessageType": message_type or ((content_type or "").split("/")[0] if media_url else "text"),
    }
    if media_url:
        form["MediaUrl0"] = media_url
        form["MediaContentType0"] = content_type or "audio/ogg"
    return form


def post_twilio(
    gateway: str, auth_token: str, form: dict[str, str], signature: str | None = None
) -> httpx.Response:
    url = f"{gateway}/twilio/whatsapp"
    sig = signature if signature is not None else RequestValidator(auth_token).compute_signature(url, form)
    return httpx.post(url, data=form, headers={"X-Twilio-Signature": sig}, timeout=30)


# -- Meta -------------------------------------------------------------------------------------------------


@dataclass
class MetaStandIn:
    access_token: str
    phone_number_id: str
    version: str = "v21.0"
    base_url: str = ""
    media: dict[str, InboundMedia] = field(default_factory=dict)
    uploads: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)  # id -> (data, type, mime)
    messages: list[dict] = field(default_factory=list)  # accepted /messages bodies, with "wamid"
    unauthorized: int = 0
    fail_next: list[int] = field(default_factory=list)  # statuses for the next media or message POSTs
    fail_uploads: list[int] = field(default_factory=list)  # statuses for the next media uploads only
    upload_attempts: int = 0
    hold_media: threading.Event | None = None

    @property
    def graph_url(self) -> str:
        return f"{self.base_url}/{self.version}"

    def _authorized(self, request: Request) -> bool:
        ok = request.headers.get("authorization") == f"Bearer {self.access_token}"
        if not ok:
            self.unauthorized += 1
        return ok

    @staticmethod
    def _error(status: int, code: int, message: str, kind: str = "OAuthException") -> JSONResponse:
        error = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_hex(8)}
        return JSONResponse({"error": error}, status_code=status)

    def add_media(self, data: bytes, mime_type: str, **behaviour) -> str:
        media_id = str(10**15 + secrets.randbelow(10**15))
        self.media[media_id] = InboundMedia(data, mime_type, **behaviour)
        return media_id

    def texts(self, to: str | None = None) -> list[dict]:
        return [m for m in self.messages if m["type"] == "text" and (to is None or m["to"] == to.lstrip("+"))]

    def voices(self, to: str | None = None) -> list[dict]:
        return [
            m for m in self.messages if m["type"] == "audio" and (to is None or m["to"] == to.lstrip("+"))
        ]

    def app(self) -> FastAPI:
        app = FastAPI()
        v = self.version

        @app.get(f"/{v}/{{media_id}}")
        async def media_info(media_id: str, request: Request) -> Response:
            if not self._authorized(request):
                return self._error(401, 190, "Invalid OAuth access token.")
            item = self.media.get(media_id)
            if item is None:
                return self._error(400, 100, "Unsupported get request.", "GraphMethodException")
            size = item.chunked_bytes or item.declared_bytes or len(item.data)
            url = f"{self.base_url}/whatsapp_business/attachments/?mid={media_id}&ext={int(time.time())}"
            info = {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": item.content_type,
                "file_size": size if not item.chunked_bytes else len(item.data),  # a chunked body lies
                "id": media_id,
            }
            if not (item.chunked_bytes or item.declared_bytes):
                info["sha256"] = hashlib.sha256(item.data).hexdigest()
            return JSONResponse(info)

        @app.get("/whatsapp_business/attachments/")
        async def lookaside(mid: str, request: Request) -> Response:
            if not self._authorized(request):
                return Response(status_code=401)
            item = self.media.get(mid)
            if item is None:
                return Response(status_code=404)
            return await _serve(item, self.hold_media)

        @app.post(f"/{v}/{{phone_number_id}}/media")
        async def upload(phone_number_id: str, request: Request) -> Response:
            if not self._authorized(request):
                return self._error(401, 190, "Invalid OAuth access token.")
            if phone_number_id != self.phone_number_id:
                return self._error(400, 100, "Unsupported post request.", "GraphMethodException")
            self.upload_attempts += 1
            if self.fail_next:
                return self._error(self.fail_next.pop(0), 2, "Service temporarily unavailable")
            if self.fail_uploads:
                return self._error(self.fail_uploads.pop(0), 2, "Service temporarily unavailable")
            form = await request.form()
            upload = form.get("file")
            if form.get("messaging_product") != "whatsapp" or not form.get("type") or upload is None:
                return self._error(400, 100, "Param file, type and messaging_product are required")
            data = await upload.read()
            media_id = str(10**15 + secrets.randbelow(10**15))
            self.uploads[media_id] = (data, str(form.get("type")), upload.content_type or "")
            return JSONResponse({"id": media_id})

        @app.post(f"/{v}/{{phone_number_id}}/messages")
        async def send(phone_number_id: str, request: Request) -> Response:
            if not self._authorized(request):
                return self._error(401, 190, "Invalid OAuth access token.")
            if phone_number_id != self.phone_number_id:
                return self._error(400, 100, "Unsupported post request.", "GraphMethodException")
            if self.fail_next:
                return self._error(self.fail_next.pop(0), 2, "Service temporarily unavailable")
            body = await request.json()
            if body.get("messaging_product") != "whatsapp" or not body.get("to"):
                return self._error(400, 100, "Invalid parameter")
            kind = body.get("type")
            if kind == "text" and not (body.get("text") or {}).get("body"):
                return self._error(400, 100, "Param text['body'] is required")
            if kind == "audio" and (body.get("audio") or {}).get("id") not in self.uploads:
                return self._error(400, 131053, "Media upload error")
            if kind not in ("text", "audio"):
                return self._error(400, 100, f"unexpected type {kind}")
            wamid = "wamid." + base64.b64encode(secrets.token_bytes(24)).decode()
            self.messages.append({**body, "wamid": wamid})
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                    "messages": [{"id": wamid}],
                }
            )

        return app


def meta_message(wamid: str, sender: str, kind: str, **content) -> dict:
    """One entry of value.messages[] as Meta sends it (sender as E.164)."""
    m = {"from": sender.lstrip("+"), "id": wamid, "timestamp": str(int(time.time())), "type": kind}
    if kind == "audio":
        m["audio"] = {
            "mime_type": content.get("mime_type", "audio/ogg; codecs=opus"),
            "sha256": content.get("sha256", ""),
            "id": content["media_id"],
            "voice": True,
        }
    elif kind == "text":
        m["text"] = {"body": content["body"]}
    else:
        m[kind] = {"mime_type": content.get("mime_type", "image/jpeg"), "id": content.get("media_id", "1")}
    return m


def meta_payload(phone_number_id: str, messages=(), statuses=(), sender: str = "+221700000001") -> dict:
    value: dict = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Awa"}, "wa_id": sender.lstrip("+")}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}],
    }


def meta_status(wamid: str, recipient: str, status: str = "delivered") -> dict:
    return {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient.lstrip("+"),
    }


def meta_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def post_meta(gateway: str, app_secret: str, payload: dict, signature: str | None = None) -> httpx.Response:
    body = json.dumps(payload).encode()
    sig = signature if signature is not None else meta_signature(app_secret, body)
    headers = {"Content-Type": "application/json"}
    if sig:
        headers["X-Hub-Signature-256"] = sig
    return httpx.post(f"{gateway}/whatsapp/meta", content=body, headers=headers, timeout=30)


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
