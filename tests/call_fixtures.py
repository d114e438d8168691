"""A real gateway on a local port with a stand-in for Twilio's REST API, for phone-call tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.gateway import create_app
from voice.config import ASRSettings, CallSettings, Settings
from voice.telephony.simulator import SimulatedCaller
from voice.telephony.twilio_standin import BackgroundServer, TwilioStandIn, free_port


@dataclass
class Line:
    url: str
    settings: Settings
    standin: TwilioStandIn

    def caller(self, lang: str | None = "eng", **kw) -> SimulatedCaller:
        sim = SimulatedCaller(
            self.url, self.settings.twilio_account_sid, self.settings.twilio_auth_token, lang, **kw
        )
        self.standin.on_update = lambda _req: sim.ended_by_twilio.set()
        return sim


def gateway_settings(data_dir: Path, port: int, rest_url: str, sid: str, token: str, **call) -> Settings:
    return Settings(
        VOICE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TWILIO_ACCOUNT_SID=sid,
        TWILIO_AUTH_TOKEN=token,
        TWILIO_API_BASE_URL=rest_url,
        VOICE_DB_URL=f"sqlite:///{data_dir / 'voice.db'}",
        paths={"data_dir": data_dir},
        asr=ASRSettings(),
        call=CallSettings(handoff_number="+221338009999", **call),
    )


def start_line(tmp_path_factory, **call):
    sid, token = "AC" + secrets.token_hex(16), secrets.token_hex(16)
    standin = TwilioStandIn(sid, token)
    rest = BackgroundServer(standin.app()).__enter__()
    port = free_port()
    settings = gateway_settings(tmp_path_factory.mktemp("gateway"), port, rest.url, sid, token, **call)
    gateway = BackgroundServer(create_app(settings), port=port).__enter__()
    return Line(gateway.url, settings, standin), (gateway, rest)


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    line, servers = start_line(tmp_path_factory)
    yield line
    for s in servers:
        s.__exit__(None, None, None)
