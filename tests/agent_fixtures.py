"""Agent fixtures: the tiny fine-tuned gpt-oss (transformers + GGUF), llama-server serving it.

Built once and cached under `fixture_cache()` (the GGUF and the model share one build); the
llama-server binary is cached by voice.testing.llama_server. Register with
`pytest_plugins = ["tests.agent_fixtures"]` or import the fixtures by name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import fixture_cache
from voice.agent import Agent, Sentence, Session, TurnResult


def tiny_gpt_oss_paths() -> dict[str, Path]:
    """Build (first time) and return {"hf": transformers dir, "gguf": GGUF file}."""
    from voice.testing.agent_models import build_fixture, fingerprint

    root = fixture_cache() / f"tiny-gpt-oss-{fingerprint()}"
    paths = {"hf": root / "hf", "gguf": root / "model-f32.gguf"}
    if not (root / "voice-build.json").exists() or not paths["gguf"].exists():
        build_fixture(root)
    return paths


@pytest.fixture(scope="session")
def tiny_gpt_oss() -> dict[str, Path]:
    return tiny_gpt_oss_paths()


@pytest.fixture(scope="session")
def llama_server_bin() -> Path:
    from voice.testing.llama_server import build_llama_server

    return build_llama_server()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """A real `llama-server --jinja` on 127.0.0.1 serving a GGUF; `url` is its OpenAI base URL."""

    def __init__(self, binary: Path, gguf: Path, log_dir: Path, ctx: int = 8192, threads: int = 2):
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/v1"
        self.log_path = log_dir / f"llama-server-{self.port}.log"
        cmd = [
            str(binary),
            "-m",
            str(gguf),
            "--jinja",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-c",
            str(ctx),
            "-t",
            str(threads),
            "-np",
            "1",
            "--no-warmup",
        ]
        self._log = open(self.log_path, "w")  # noqa: SIM115  (closed in stop)
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ})

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama-server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if httpx.get(f"{self.root}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"llama-server not ready after {timeout:.0f} s; see {self.log_path}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


def start_llama_server(binary: Path, gguf: Path, log_dir: Path) -> LlamaServer:
    server = LlamaServer(binary, gguf, log_dir)
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def llama_server(llama_server_bin, tiny_gpt_oss, tmp_path_factory) -> Iterator[LlamaServer]:
    server = start_llama_server(
        llama_server_bin, tiny_gpt_oss["gguf"], tmp_path_factory.mktemp("llama-server")
    )
    yield server
    server.stop()


# A scripted customer session: 20 turns a caller might say, repeated, with a fresh conversation
# every 20 turns and after each hand-off. Shared by the routing test and bench/agent.py.
SCRIPT = {
    "eng": [
        "hello",
        "what is my balance",
        "how much data do I have left",
        "what offers do you have",
        "I want to buy the Pass Jour",
        "yes",
        "how much does it cost to send money",
        "my SIM card was stolen",
        "I forgot my PUK code",
        "there is no network in my area",
        "what time do your shops open",
        "what is the status of transfer MM-2026-0042",
        "thank you",
        "goodbye",
        "can I keep my number if I switch to Teranga",
        "how do I set up internet on my phone",
        "zzz qqq unintelligible",
        "blorp fnord",
        "I want to speak to a person",
        "my calls keep dropping",
    ],
}


def scripted_session(turns: int, new_session: Callable[[], object]) -> Iterator[tuple[object, str]]:
    """(session, text) per turn; a new session every script round and after a hand-off."""
    lines = SCRIPT["eng"]
    session = None
    for i in range(turns):
        if i % len(lines) == 0 or getattr(session, "handed_off", False):
            session = new_session()
        yield session, lines[i % len(lines)]


def turn(agent: Agent, session: Session, text: str) -> tuple[list[str], TurnResult]:
    """One caller turn through the real loop: the sentences streamed and the result."""
    events = list(agent.turn(session, text))
    sentences = [e.text for e in events if isinstance(e, Sentence)]
    result = events[-1]
    assert isinstance(result, TurnResult)
    assert " ".join(sentences) == result.reply  # everything said was streamed sentence by sentence
    return sentences, result
