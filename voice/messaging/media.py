"""Voice notes we serve back to providers: stored blobs behind signed, expiring URLs.

GET /media/{id}?exp=UNIX&sig=HEX where sig = HMAC-SHA256(server secret, "{id}:{exp}"). Twilio
fetches a reply's MediaUrl from here; the URL works until `exp` and for that blob only.
Inbound media (kept only until it is transcribed) gets ids starting with "in-" and is never served.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from voice.config import Settings
from voice.messaging.jobs import aware, now
from voice.store.db import Database
from voice.store.models import MediaBlob

log = logging.getLogger(__name__)
INBOUND_PREFIX = "in-"
OGG = "audio/ogg"
_KEY_FILE = "media-url.key"


def media_secret(settings: Settings) -> bytes:
    """The URL-signing key: configured, else derived from a provider secret, else kept in the data dir."""
    configured = settings.messaging.media_secret
    if configured:
        return configured.encode()
    base = settings.twilio_auth_token or settings.whatsapp_app_secret
    if base:
        return hmac.new(base.encode(), b"teranga-voice media urls v1", hashlib.sha256).digest()
    path = Path(settings.paths.data_dir) / _KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{secrets.token_hex(4)}")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: of two processes starting together, one key wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip().encode()


def signature(secret: bytes, media_id: str, exp: int) -> str:
    return hmac.new(secret, f"{media_id}:{exp}".encode(), hashlib.sha256).hexdigest()


def signed_url(
    settings: Settings, media_id: str, ttl_s: int | None = None, secret: bytes | None = None
) -> str:
    # Rounded up: the URL works for at least the TTL, never a truncated fraction of it.
    exp = math.ceil(time.time() + (ttl_s if ttl_s is not None else settings.messaging.media_url_ttl_s))
    sig = signature(secret or media_secret(settings), media_id, exp)
    return f"{settings.public_url.rstrip('/')}/media/{media_id}?{urlencode({'exp': exp, 'sig': sig})}"


def check_signature(secret: bytes, media_id: str, exp: str | None, sig: str | None) -> bool:
    """True for an unexpired URL signed by us for exactly this media id."""
    if not exp or not sig or not exp.isdigit():
        return False
    if int(exp) < time.time():
        return False
    return hmac.compare_digest(signature(secret, media_id, int(exp)), sig)


def store_blob(db: Database, data: bytes, content_type: str, ttl_s: float, prefix: str = "") -> str:
    media_id = prefix + secrets.token_urlsafe(18)
    with db.session() as s:
        s.add(
            MediaBlob(
                id=media_id,
                content_type=content_type,
                data=data,
                expires_at=now() + timedelta(seconds=ttl_s),
            )
        )
    return media_id


def load_blob(db: Database, media_id: str) -> MediaBlob | None:
    with db.session() as s:
        blob = s.get(MediaBlob, media_id)
        if blob is not None:
            s.expunge(blob)
        return blob


def keep_blob_until(db: Database, media_id: str, seconds: float) -> bool:
    """Make sure the blob outlives a URL we are about to hand out; False if it is gone."""
    with db.session() as s:
        blob = s.get(MediaBlob, media_id)
        if blob is None:
            return False
        until = now() + timedelta(seconds=seconds)
        if aware(blob.expires_at) < until:
            blob.expires_at = until
        return True


def servable(blob: MediaBlob | None) -> bool:
    return blob is not None and not blob.id.startswith(INBOUND_PREFIX)
