"""docker-compose.yml and the Dockerfile agree with the settings the code reads.

No Docker engine runs here: this loads the files and checks services, ports and environment
against `voice.config` — a renamed setting or port fails here instead of in production.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from voice.config import Settings, env_names

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_ENV = {
    "VOICE_PUBLIC_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_BASE_URL",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "WHATSAPP_GRAPH_URL",
    "VOICE_DB_URL",
    "VOICE_LLM_URL",
    "VOICE_LLM_MODEL",
}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _defaults(value: str) -> str:
    """${VAR:-default} -> default, as compose substitutes with an empty .env."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def test_services_exist(compose):
    assert {"gateway", "postgres", "llm"} <= set(compose["services"])


def test_gateway_environment_is_exactly_what_settings_read(compose):
    env = compose["services"]["gateway"]["environment"]
    known = env_names()
    assert set(env) <= known, f"compose sets variables the code never reads: {set(env) - known}"
    assert set(env) >= CONTRACT_ENV, f"contract variables missing from compose: {CONTRACT_ENV - set(env)}"
    assert known >= CONTRACT_ENV


def test_gateway_settings_parse_from_compose(compose, monkeypatch):
    for key, value in compose["services"]["gateway"]["environment"].items():
        monkeypatch.setenv(key, _defaults(value))
    s = Settings()
    assert s.host == "0.0.0.0"
    published = compose["services"]["gateway"]["ports"][0]
    assert published.split(":")[1] == str(s.port)
    url = make_url(s.database_url)
    assert url.host in compose["services"], "the database host must be a compose service"
    pg = compose["services"]["postgres"]["environment"]
    assert url.username == pg["POSTGRES_USER"] and url.database == pg["POSTGRES_DB"]
    assert url.drivername == "postgresql+psycopg"
    __import__("psycopg")  # the driver the URL names is installed with the [postgres] extra


def test_llm_service_serves_gpt_oss_on_a_gpu(compose):
    llm = compose["services"]["llm"]
    args = llm["command"]
    assert args[args.index("--model") + 1] == "openai/gpt-oss-20b"
    assert "--enable-auto-tool-choice" in args and args[args.index("--tool-call-parser") + 1] == "openai"
    port = args[args.index("--port") + 1]
    assert llm["ports"][0] == f"{port}:{port}"
    assert llm["profiles"] == ["gpu"]
    assert llm["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"
    default_model = Settings.model_fields["llm_model"].default
    assert default_model == args[args.index("--served-model-name") + 1]


def test_dockerfile_matches(compose):
    text = (ROOT / "services/gateway/Dockerfile").read_text()
    expose = re.search(r"^EXPOSE (\d+)", text, re.M).group(1)
    assert compose["services"]["gateway"]["ports"][0] == f"{expose}:{expose}"
    assert "espeak-ng" in text and "ffmpeg" in text
    assert 'CMD ["voice", "serve"]' in text
    for src in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for item in src.split():
            assert (ROOT / item).exists(), f"Dockerfile copies {item}, which is not in the repo"
    for env in re.findall(r"(VOICE_[A-Z_]+)=", text):
        assert env in env_names()
