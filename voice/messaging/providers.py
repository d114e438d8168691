"""Twilio and Meta (WhatsApp Cloud API) over HTTP: download a voice note, send a text or a voice note.

Base URLs come from TWILIO_API_BASE_URL and WHATSAPP_GRAPH_URL, so local servers can stand in.
Errors are sorted into two kinds the worker acts on:
- `Transient`: provider 5xx/429, rate limits, timeouts, connection errors -> retry with backoff;
- `JobFailure(code, reason)`: the message cannot be served (expired media, too large, a 4xx) ->
  the job fails with that reason.
Reasons never carry a phone number, token or message text (they are logged at WARNING).
"""

from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from urllib.parse import urlsplit

import httpx

from voice.config import Settings
from voice.store.models import MessageJob

log = logging.getLogger(__name__)

# Meta Graph error codes that mean "slow down / try again", even when sent with HTTP 400.
META_RETRYABLE_CODES = {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131048, 131056, 133004}
# Meta: the media id is unknown or expired.
META_MEDIA_GONE_CODES = {100, 131052, 131053}


class Transient(Exception):
    """Worth retrying later: the provider or the network failed, not the message."""


class JobFailure(Exception):
    """The message cannot be served; `code` is a short machine-readable name of `reason`."""

    def __init__(self, code: str, reason: str, language: str | None = None, notify: bool = True):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.language = language
        self.notify = notify  # whether the sender should get a short apology


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _json(response: httpx.Response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class Provider(ABC):
    name = ""

    def __init__(self, settings: Settings, client: httpx.Client | None = None):
        self.settings = settings
        self.max_bytes = settings.messaging.max_media_bytes
        self.client = client or httpx.Client(
            timeout=httpx.Timeout(settings.messaging.http_timeout_s, connect=10.0),
            headers={"User-Agent": "teranga-voice"},
        )

    def close(self) -> None:
        self.client.close()

    # -- what the worker calls --------------------------------------------------------------------
    @abstractmethod
    def download(self, job: MessageJob) -> tuple[bytes, str]:
        """The message's media: (bytes, content type)."""

    @abstractmethod
    def send_text(self, job: MessageJob, text: str) -> str:
        """Send `text` to the job's sender; the provider's message id."""

    @abstractmethod
    def send_voice(self, job: MessageJob, ref: str) -> str:
        """Send a voice note (Twilio: a public URL; Meta: an uploaded media id); the message id."""

    def upload_voice(self, job: MessageJob, data: bytes) -> str | None:
        """Upload a voice note first when the provider needs it (Meta); its media id."""
        return None

    # -- HTTP plumbing ------------------------------------------------------------------------------
    def _request(self, what: str, method: str, url: str, **kwargs) -> httpx.Response:
        try:
            response = self.client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise Transient(f"{what}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Transient(f"{what}: unreachable ({type(exc).__name__})") from exc
        self._check(what, response)
        return response

    def _check(self, what: str, response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        code = self._error_code(response)
        detail = f"HTTP {status}" + (f", code {code}" if code is not None else "")
        log.debug("%s failed: %s %s", what, detail, response.text[:500])
        if status >= 500 or status in (408, 425, 429) or self._retryable(status, code):
            raise Transient(f"{what}: {detail}")
        raise JobFailure("provider_rejected", f"{what} was refused ({detail})")

    def _error_code(self, response: httpx.Response):
        return None

    def _retryable(self, status: int, code) -> bool:
        return False

    def fetch_limited(self, what: str, url: str, **kwargs) -> tuple[bytes, str]:
        """GET `url` streamed, stopping as soon as it exceeds the size limit."""
        try:
            with self.client.stream("GET", url, follow_redirects=True, **kwargs) as r:
                if r.status_code in (404, 410):
                    raise JobFailure(
                        "media_expired",
                        f"{what}: the media is gone (HTTP {r.status_code}): its link expired or was deleted",
                    )
                if r.status_code in (401, 403):
                    raise JobFailure("media_refused", f"{what}: access refused (HTTP {r.status_code})")
                if r.status_code >= 400:
                    r.read()
                    self._check(what, r)
                declared = r.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise JobFailure(
                        "too_large", f"{what}: {int(declared)} bytes, over the {self.max_bytes}-byte limit"
                    )
                data = bytearray()
                for chunk in r.iter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise JobFailure(
                            "too_large", f"{what}: over the {self.max_bytes}-byte limit; download stopped"
                        )
                return bytes(data), r.headers.get("content-type", "").split(";")[0].strip().lower()
        except httpx.TimeoutException as exc:
            raise Transient(f"{what}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise Transient(f"{what}: unreachable ({type(exc).__name__})") from exc


class TwilioProvider(Provider):
    """Twilio's Messages API (WhatsApp): HTTP Basic auth with the account SID and auth token."""

    name = "twilio"

    def __init__(self, settings: Settings, client: httpx.Client | None = None):
        super().__init__(settings, client)
        self.base = settings.twilio_api_base_url.rstrip("/")
        self.sid = settings.twilio_account_sid
        self.auth = (settings.twilio_account_sid, settings.twilio_auth_token)

    def _error_code(self, response):
        return _json(response).get("code")

    def _retryable(self, status, code) -> bool:
        return code in (20429, 20500, 20503)

    def download(self, job: MessageJob) -> tuple[bytes, str]:
        url = (job.payload or {}).get("media_url")
        if not url:
            raise JobFailure("unsupported_type", "the message announces media but has no MediaUrl0")
        # Credentials go to Twilio's API host only; its redirect to the media store carries none.
        auth = self.auth if _origin(url) == _origin(self.base) else None
        return self.fetch_limited("Twilio media download", url, auth=auth)

    def _from(self, job: MessageJob) -> str:
        ours = (job.payload or {}).get("to") or ""
        if not ours:
            raise JobFailure(
                "provider_rejected", "no WhatsApp number to reply from (webhook had no To)", notify=False
            )
        return ours if ours.startswith("whatsapp:") else f"whatsapp:{ours}"

    def _send(self, what: str, job: MessageJob, fields: dict[str, str]) -> str:
        url = f"{self.base}/2010-04-01/Accounts/{self.sid}/Messages.json"
        data = {"From": self._from(job), "To": f"whatsapp:{job.sender}", **fields}
        response = self._request(what, "POST", url, data=data, auth=self.auth)
        sid = _json(response).get("sid")
        if not sid:
            raise Transient(f"{what}: the answer carried no message sid")
        return str(sid)

    def send_text(self, job: MessageJob, text: str) -> str:
        return self._send("Twilio send text", job, {"Body": text})

    def send_voice(self, job: MessageJob, ref: str) -> str:
        return self._send("Twilio send voice note", job, {"MediaUrl": ref})


class MetaProvider(Provider):
    """Meta's WhatsApp Cloud API (Graph): Bearer WHATSAPP_ACCESS_TOKEN on every request."""

    name = "meta"

    def __init__(self, settings: Settings, client: httpx.Client | None = None):
        super().__init__(settings, client)
        self.graph = settings.whatsapp_graph_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {settings.whatsapp_access_token}"}

    def _error_code(self, response):
        error = _json(response).get("error")
        return error.get("code") if isinstance(error, dict) else None

    def _retryable(self, status, code) -> bool:
        return code in META_RETRYABLE_CODES

    def _phone_number_id(self, job: MessageJob) -> str:
        pnid = (job.payload or {}).get("phone_number_id")
        if not pnid:
            raise JobFailure("provider_rejected", "no phone_number_id in the webhook metadata", notify=False)
        return str(pnid)

    def download(self, job: MessageJob) -> tuple[bytes, str]:
        payload = job.payload or {}
        media_id = payload.get("media_id")
        if not media_id:
            raise JobFailure("unsupported_type", "the audio message has no media id")
        what = "Meta media lookup"
        try:
            response = self.client.get(f"{self.graph}/{media_id}", headers=self.headers)
        except httpx.TimeoutException as exc:
            raise Transient(f"{what}: timed out") from exc
        except httpx.TransportError as exc:
            raise Transient(f"{what}: unreachable ({type(exc).__name__})") from exc
        code = self._error_code(response)
        if response.status_code in (404, 410) or (
            response.status_code == 400 and code in META_MEDIA_GONE_CODES
        ):
            raise JobFailure(
                "media_expired", f"{what}: the media id is unknown or expired (HTTP {response.status_code})"
            )
        if response.status_code in (401, 403):
            raise JobFailure("media_refused", f"{what}: access refused (HTTP {response.status_code})")
        self._check(what, response)
        info = _json(response)
        url = info.get("url")
        if not url:
            raise Transient(f"{what}: the answer carried no url")
        size = info.get("file_size")
        if isinstance(size, int | str) and str(size).isdigit() and int(size) > self.max_bytes:
            raise JobFailure("too_large", f"{what}: {int(size)} bytes, over the {self.max_bytes}-byte limit")
        data, content_type = self.fetch_limited("Meta media download", url, headers=self.headers)
        expected = info.get("sha256") or payload.get("sha256")
        if expected and hashlib.sha256(data).hexdigest() != str(expected).lower():
            raise Transient("Meta media download: sha256 mismatch (a damaged transfer)")
        return data, content_type or str(info.get("mime_type") or "").split(";")[0]

    def _message(self, what: str, job: MessageJob, body: dict) -> str:
        url = f"{self.graph}/{self._phone_number_id(job)}/messages"
        to = (job.payload or {}).get("wa_id") or job.sender.lstrip("+")
        message = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **body}
        response = self._request(what, "POST", url, json=message, headers=self.headers)
        messages = _json(response).get("messages") or []
        if not messages or not isinstance(messages[0], dict) or not messages[0].get("id"):
            raise Transient(f"{what}: the answer carried no message id")
        return str(messages[0]["id"])

    def send_text(self, job: MessageJob, text: str) -> str:
        return self._message(
            "Meta send text", job, {"type": "text", "text": {"preview_url": False, "body": text}}
        )

    def upload_voice(self, job: MessageJob, data: bytes) -> str:
        what = "Meta media upload"
        url = f"{self.graph}/{self._phone_number_id(job)}/media"
        response = self._request(
            what,
            "POST",
            url,
            data={"messaging_product": "whatsapp", "type": "audio/ogg"},
            files={"file": ("reply.ogg", data, "audio/ogg")},
            headers=self.headers,
        )
        media_id = _json(response).get("id")
        if not media_id:
            raise Transient(f"{what}: the answer carried no media id")
        return str(media_id)

    def send_voice(self, job: MessageJob, ref: str) -> str:
        return self._message(
            "Meta send voice note", job, {"type": "audio", "audio": {"id": ref, "voice": True}}
        )


def make_providers(settings: Settings) -> dict[str, Provider]:
    return {"twilio": TwilioProvider(settings), "meta": MetaProvider(settings)}
