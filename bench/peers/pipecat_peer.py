"""The Pipecat peer: its own venv under the cache dir and its bot as a separate process.

Pipecat's dependencies (its own numpy, onnxruntime, fastapi, websockets pins) must not meet ours,
so it gets a venv of its own, made once with `python -m venv` + pip and reused while its
requirements are unchanged. The bot (bench/peers/pipecat_bot.py) runs from that venv; the bench
only talks to it over HTTP and the Twilio media-stream protocol, like a phone network would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.common import wait_healthy

PIPECAT_VERSION = "1.14.0"
# uvicorn serves the bot's FastAPI app, as in Pipecat's example (its `runner` extra would also
# pull the prebuilt web UI, which a phone bot does not need).
REQUIREMENTS = [f"pipecat-ai[websocket,silero,whisper]=={PIPECAT_VERSION}", "uvicorn>=0.32,<1"]
BOT_SCRIPT = Path(__file__).with_name("pipecat_bot.py")


def venv_dir(cache_dir: Path) -> Path:
    return cache_dir / "bench" / f"pipecat-{PIPECAT_VERSION}"


def ensure_venv(cache_dir: Path, log=print) -> Path:
    """The peer venv's python, installing it first if missing or made for other requirements."""
    root = venv_dir(cache_dir)
    python = root / "bin" / "python"
    marker = root / ".requirements"
    wanted = "\n".join(REQUIREMENTS)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"installing Pipecat {PIPECAT_VERSION} into {root} (once)")
    root.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(root)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
        check=True,
    )
    marker.write_text(wanted)
    return python


class PipecatBot:
    """The bot process: started on a free port, ready once it answers /healthz, stopped on exit."""

    def __init__(self, python: Path, model_dir: Path, port: int, log_path: Path, answer: str | None = None):
        self.python, self.model_dir, self.port, self.log_path = python, model_dir, port, log_path
        self.answer = answer
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __enter__(self) -> PipecatBot:
        cmd = [str(self.python), str(BOT_SCRIPT), "--port", str(self.port), "--model", str(self.model_dir)]
        if self.answer:
            cmd += ["--answer", self.answer]
        # Offline: the weights are a local directory; nothing may reach for Hugging Face.
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        env.pop("VIRTUAL_ENV", None)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(self.proc, self.url, "the Pipecat bot", self.log_path, timeout_s=180)
        except SystemExit:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
