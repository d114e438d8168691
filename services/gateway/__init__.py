"""The gateway: telephony and messaging webhooks, media, packs and the integration API."""

from services.gateway.app import create_app

__all__ = ["create_app"]
