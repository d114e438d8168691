"""Text to speech: streaming by sentence, espeak round trip through real Whisper, tiny VITS."""

from __future__ import annotations

import jiwer
import numpy as np
import pytest

from tests.conftest import fixture_cache
from voice.audio import Audio, encode_audio, load_audio
from voice.config import TTSSettings
from voice.packs import get_pack
from voice.tts import Synthesizer, get_synthesizer
from voice.tts.espeak import EspeakEngine

REPLIES = [
    "Your balance is 1250 CFA francs and you have 300 megabytes of data left.",
    "The weekly pass gives you 5 gigabytes for 2000 CFA francs.",
    "I have blocked your SIM card. You can get a new one at any shop with your ID card.",
    "Our shops are open from Monday to Saturday.",
    "I am transferring you to an agent now, please stay on the line.",
    "Sending money costs one percent of the amount.",
]


def test_sentences_stream_one_by_one():
    synth = get_synthesizer("eng")
    chunks = synth.synthesize("Hello there. Your balance is 500 CFA francs! Anything else?")
    first = next(chunks)  # a generator: the first sentence is ready before the rest are made
    assert first.text == "Hello there."
    rest = list(chunks)
    assert [c.text for c in rest] == ["Your balance is 500 CFA francs!", "Anything else?"]
    assert "five hundred" in rest[0].spoken and "500" not in rest[0].spoken
    assert all(c.audio.duration > 0.3 for c in [first, *rest])


@pytest.mark.slow
def test_say_round_trip_through_whisper_base(whisper_base):
    synth = get_synthesizer("eng")
    pack = get_pack("eng")
    scores = []
    for reply in REPLIES:
        audio = synth.synthesize_all(reply)
        heard = whisper_base.transcribe(audio, "eng").text
        reference = pack.normalise(pack.verbalise(reply))
        scores.append(jiwer.wer(reference, pack.normalise(pack.verbalise(heard)) or "<empty>"))
    print(f"\nespeak -> whisper-base WER: {[round(s, 2) for s in scores]}, mean {np.mean(scores):.3f}")
    assert np.mean(scores) <= 0.45


@pytest.mark.parametrize("fmt", ["wav", "ogg", "mulaw"])
def test_output_formats(fmt):
    audio = get_synthesizer("eng").synthesize_all("Thank you for calling.")
    data = encode_audio(audio, fmt)
    if fmt == "mulaw":
        assert len(data) == pytest.approx(audio.duration * 8000, abs=2)
    else:
        assert load_audio(data, 16000).duration == pytest.approx(audio.duration, abs=0.08)


def test_espeak_missing_binary_is_a_clear_error():
    from voice.errors import ModelError

    with pytest.raises(ModelError, match="apt-get install espeak-ng"):
        EspeakEngine(binary="espeak-ng-not-installed")


def test_espeak_text_goes_through_stdin_not_arguments():
    # A sentence that looks like an option must be spoken, not parsed as one.
    audio = EspeakEngine().synthesize_sentence("--help me please", "en-us")
    assert audio.duration > 0.5


@pytest.fixture(scope="module")
def tiny_vits():
    from voice.testing.tts_models import build_random_vits

    path = fixture_cache() / "tiny-vits-v1"
    if not (path / "config.json").exists():
        build_random_vits(path)
    return path


@pytest.mark.slow
def test_vits_engine_on_a_tiny_random_model(tiny_vits):
    synth = Synthesizer(get_pack("eng"), _vits_engine(tiny_vits))
    chunks = list(synth.synthesize("Hello. My balance is 500 CFA francs."))
    assert len(chunks) == 2
    for c in chunks:
        assert c.audio.sample_rate == 16000 and c.audio.duration > 0.1
        assert np.isfinite(c.audio.samples).all() and np.abs(c.audio.samples).max() > 0
    # Longer text -> longer audio: the duration predictor really runs on the tokens.
    assert chunks[1].audio.duration > chunks[0].audio.duration
    again = list(synth.synthesize("Hello."))[0]
    assert np.array_equal(again.audio.samples, chunks[0].audio.samples)  # seeded: repeatable


@pytest.mark.slow
def test_vits_selected_by_settings(tiny_vits):
    from voice.tts.pipeline import make_engine

    engine = make_engine(get_pack("eng"), TTSSettings(engine="auto", vits_model=str(tiny_vits)))
    assert engine.name == "vits"
    assert make_engine(get_pack("eng"), TTSSettings()).name == "espeak-ng"


def _vits_engine(path):
    from voice.tts.vits import VitsEngine

    return VitsEngine(path)


def test_silence_in_tts_is_handled():
    synth = get_synthesizer("eng")
    assert list(synth.synthesize("   ")) == []
    assert isinstance(synth.synthesize_all(""), Audio)
