"""The gateway's plain-HTTP surface: health, readiness, metrics, /v1 transcribe/speak, auth."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.gateway import create_app
from tests.conftest import espeak
from voice.audio import encode_audio, load_audio
from voice.config import Settings


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    with TestClient(create_app(Settings(VOICE_DB_URL=f"sqlite:///{tmp / 'v.db'}"))) as c:
        yield c


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["ready"] and {"eng", "fra", "wol", "fuc"} <= set(ready["packs"])
    assert "voice_agent_turns_total" in client.get("/metrics").text


@pytest.mark.slow
def test_transcribe_an_ogg_upload(client):
    note = encode_audio(espeak("Hello. I would like to check my balance, please."), "ogg")
    r = client.post("/v1/transcribe?lang=eng", content=note, headers={"Content-Type": "audio/ogg"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["language"] == "eng" and "balance" in data["text"].lower()


def test_transcribe_refuses_bad_input(client):
    r = client.post("/v1/transcribe", content=b"not audio" * 100, headers={"Content-Type": "audio/ogg"})
    assert r.status_code == 422 and "upload" in r.json()["error"]
    r = client.post("/v1/transcribe", content=b"{}", headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    big = b"\0" * (16 * 1024 * 1024 + 1)
    r = client.post("/v1/transcribe", content=big, headers={"Content-Type": "audio/wav"})
    assert r.status_code == 413


def test_speak_returns_audio_in_the_asked_format(client):
    r = client.post(
        "/v1/speak", json={"text": "Your balance is 3000 CFA francs.", "lang": "eng", "format": "ogg"}
    )
    assert r.status_code == 200 and r.headers["content-type"] == "audio/ogg"
    assert load_audio(r.content).duration > 1.0
    assert client.post("/v1/speak", json={"text": "x", "lang": "klingon"}).status_code == 422
    assert client.post("/v1/speak", json={"text": "", "lang": "eng"}).status_code == 422


def test_api_token_is_required_when_set(tmp_path):
    settings = Settings(VOICE_DB_URL=f"sqlite:///{tmp_path / 'v.db'}", VOICE_API_TOKEN="s3cret")
    with TestClient(create_app(settings)) as c:
        body = {"text": "hello", "lang": "eng"}
        assert c.post("/v1/chat", json=body).status_code == 401
        assert c.post("/v1/chat", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.post("/v1/chat", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200  # health stays open for load balancers
