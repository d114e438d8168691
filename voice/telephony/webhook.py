"""Checking Twilio's webhook signatures against the URL Twilio called.

Behind a proxy the request URL the app sees is not the one Twilio signed, so the URL is rebuilt
from VOICE_PUBLIC_URL + the path + the query string.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from twilio.request_validator import RequestValidator


def public_url(base: str, path: str, query: str = "") -> str:
    return base.rstrip("/") + path + (f"?{query}" if query else "")


def websocket_url(base: str, path: str) -> str:
    parts = urlsplit(base.rstrip("/") + path)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc, parts.path, "", ""))


def valid_signature(auth_token: str, url: str, params: dict[str, str], signature: str | None) -> bool:
    if not auth_token or not signature:
        return False
    return RequestValidator(auth_token).validate(url, params, signature)
