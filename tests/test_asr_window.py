"""The short-utterance window and batched decoding, with the real whisper-base and espeak-ng speech.

Phone questions pass through the phone channel (8 kHz G.711 mu-law) as a call delivers them.
bench/asr_window.py measures the accuracy and the speed; these tests pin the behaviour: the short
path is taken and right, long audio still works, decoding is bounded, batches equal one-by-one
decodes in order, and the guards still drop silence.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from voice.asr import Recognizer, short
from voice.asr.engine import ASREngine, DecodeOptions, RawResult
from voice.asr.guards import has_immediate_repeat
from voice.audio import Audio, mulaw_decode, mulaw_encode, resample
from voice.config import ASRSettings

pytestmark = pytest.mark.slow


def phone(audio: Audio) -> Audio:
    narrow = resample(audio.samples, audio.sample_rate, 8000)
    return Audio(resample(mulaw_decode(mulaw_encode(narrow)), 8000, 16000), 16000)


@pytest.fixture(scope="module")
def utterance(whisper_base) -> Recognizer:
    return Recognizer(whisper_base.engine, ASRSettings(window="utterance"))


@pytest.fixture(scope="module")
def full(whisper_base) -> Recognizer:
    return Recognizer(whisper_base.engine, ASRSettings(window="full"))


def test_short_window_decodes_a_phone_question(utterance, speak):
    audio = phone(speak("My SIM card was stolen yesterday, please block it."))
    raw = utterance.engine.decode(audio.samples, "en", utterance.options)
    assert raw.extra.get("window_s") == 5.0  # the short path answered, not the 30 s fallback
    t = utterance.transcribe(audio, "eng")
    words = t.text.lower()
    assert "card" in words and "stolen" in words and "yesterday" in words, t.text
    assert t.language == "eng" and len(t.segments) == 1
    seg = t.segments[0]
    assert 0 <= seg.start < seg.end <= t.duration + 1e-6
    assert seg.avg_logprob > -1.0 and 0 <= seg.no_speech_prob <= 1


def test_window_sizes():
    opts = short.WindowOptions(step_s=5.0, margin_s=0.5)
    assert short.window_samples(int(2.0 * 16000), opts) == 5 * 16000
    assert short.window_samples(int(4.6 * 16000), opts) == 10 * 16000  # keeps >= 0.5 s of silence
    assert short.window_samples(int(29.9 * 16000), opts) == 30 * 16000  # never past Whisper's window
    assert short.fits(30 * 16000) and not short.fits(30 * 16000 + 1) and not short.fits(0)


def test_fine_tunes_keep_their_training_window(tmp_path):
    from voice.asr.models import ResolvedModel
    from voice.asr.recognizer import model_window

    model = ResolvedModel(tmp_path, "ctranslate2", "m", "local path")
    assert model_window(model, "utterance") == "utterance"  # stock weights: no voice-asr.json
    (tmp_path / "voice-asr.json").write_text('{"languages": [{"language": "wol", "whisper_language": "wo"}]}')
    assert model_window(model, "utterance") == "full"  # trained and evaluated in 30 s windows
    (tmp_path / "voice-asr.json").write_text('{"languages": [], "window": "utterance"}')
    assert model_window(model, "utterance") == "utterance"  # measured and declared by its maker
    assert model_window(model, "full") == "full"


def test_long_inputs_still_work(utterance, speak):
    sentences = [
        "Good morning, I am calling about my internet bundle.",
        "I bought the weekly bundle on Monday with my mobile money account.",
        "Since yesterday the internet does not work at all on my phone.",
        "Please check my account and tell me what happened to my bundle.",
    ]
    parts = []
    for s in sentences:
        parts += [speak(s), Audio.silence(1.5)]
    near_30 = Audio.concat(parts + [Audio.silence(max(0.0, 28.0 - sum(p.duration for p in parts)))])
    assert 20.0 < near_30.duration <= 30.0
    t = utterance.transcribe(near_30, "eng")
    assert "morning" in t.text.lower() and "account" in t.text.lower(), t.text
    over_30 = Audio.concat([near_30, speak("Thank you very much, goodbye."), Audio.silence(2.0)])
    assert over_30.duration > 30.0  # the full-window path, in 30 s windows
    t = utterance.transcribe(over_30, "eng")
    assert "morning" in t.text.lower() and "goodbye" in t.text.lower(), t.text


def test_decoding_is_bounded(whisper_base, speak):
    """Noise and a repeated word, with the VAD gate off so the decoder sees them: bounded, no error."""
    engine = whisper_base.engine
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.2, 3 * 16000).astype(np.float32)
    repeated = phone(speak("no no no no no no no no no no no no", rate=220)).samples
    ungated = Recognizer(engine, ASRSettings(vad_gate=False))
    for samples in (noise, repeated):
        t = ungated.transcribe(Audio(samples, 16000), "eng")
        assert len(t.text.split()) <= 40, t.text
        for seg in t.segments:  # what survives the guards is not a loop
            assert not (len(seg.text.split()) > 12 and has_immediate_repeat(seg.text)), seg.text


def test_a_loop_stops_at_the_budget_and_is_redone(whisper_base, speak):
    """Greedy without the repetition penalty loops on a short "Hello." (measured); the budget stops
    it, and the engine redoes it in the full window."""
    engine = whisper_base.engine
    hello = phone(speak("Hello.")).samples
    loose = short.WindowOptions(beam_size=1, repetition_penalty=1.0)
    budget = short.max_new_tokens(len(hello), loose)
    window = short.window_samples(len(hello), loose)
    (d,) = short.decode_batch(engine.whisper_model, [engine._tokenizer("en")], [hello], window, loose)
    assert len(d.tokens) <= budget
    assert short.needs_full_window(d, 0.6, -1.0, 2.4) is not None, d.text
    options = DecodeOptions(window="utterance", beam_size=1, repetition_penalty=1.0)
    raw = engine.decode(hello, "en", options)
    assert "window_s" not in raw.extra  # redone in the full window
    assert " ".join(s.text for s in raw.segments).lower().count("hello") == 1


def test_speech_over_the_budget_is_redone_in_full(whisper_base, speak):
    sentence = "My SIM card was stolen yesterday, please block it, and send me a new one."
    audio = phone(speak(sentence))
    starved = Recognizer(whisper_base.engine, ASRSettings(max_tokens_per_s=0.1))  # 10 tokens in all
    t = starved.transcribe(audio, "eng")
    assert "stolen" in t.text.lower() and "new one" in t.text.lower(), t.text


def test_loops_are_recognised():
    assert has_immediate_repeat("Hello. Hello. Hello.")
    assert has_immediate_repeat("Why, when I charge, why, when I charge, why")
    assert has_immediate_repeat("Merci au revoir Merci au revoir")
    assert not has_immediate_repeat("I would like to check the balance of my account.")
    assert not has_immediate_repeat("It is very very slow.")  # one doubled word is speech, not a loop


def _mixed(speak) -> list[tuple[Audio, str]]:
    return [
        (phone(speak("What is the balance of my account?")), "eng"),
        (phone(speak("Merci, au revoir.", "fr", 140)), "fra"),
        (phone(speak("How much does the weekly data bundle cost?")), "eng"),
        (Audio.silence(2.0), "eng"),  # dropped by the VAD gate, keeps its place
        (phone(speak("Je voudrais connaître le solde de mon compte.", "fr", 140)), "fra"),
        (phone(speak("There is no network in my village since Monday.")), "eng"),
    ]


def test_transcribe_many_equals_one_by_one_in_order(utterance, speak):
    items = _mixed(speak)
    one_by_one = [utterance.transcribe(a, lang) for a, lang in items]
    together = utterance.transcribe_many(items)
    assert [t.text for t in together] == [t.text for t in one_by_one]
    assert [t.language for t in together] == [lang for _, lang in items]
    assert together[3].text == "" and together[3].duration == pytest.approx(2.0)
    assert "balance" in together[0].text.lower() and "monday" in together[5].text.lower()
    assert "merci" in together[1].text.lower()
    # the iterator yields every index once, each with its own utterance's transcript
    pairs = list(utterance.transcribe_iter(items))
    assert sorted(i for i, _ in pairs) == list(range(len(items)))
    assert {i: t.text for i, t in pairs} == {i: t.text for i, t in enumerate(together)}


def test_transcribe_many_from_worker_threads(utterance, speak):
    items = _mixed(speak)
    expected = [t.text for t in utterance.transcribe_many(items)]
    batches = [items[:3], items[3:], items[::-1]]
    with ThreadPoolExecutor(3) as pool:
        got = list(pool.map(utterance.transcribe_many, batches))
    assert [t.text for t in got[0]] == expected[:3]
    assert [t.text for t in got[1]] == expected[3:]
    assert [t.text for t in got[2]] == expected[::-1]


class OneAtATime(ASREngine):
    """An engine without batching: the base class's loop over `decode`."""

    name = "one-at-a-time"

    def __init__(self, inner: ASREngine):
        super().__init__(inner.model, inner.threads)
        self.inner = inner
        self.calls = 0

    def decode(self, samples: np.ndarray, language: str | None, options: DecodeOptions) -> RawResult:
        self.calls += 1
        return self.inner.decode(samples, language, options)

    def greedy_tokens(self, samples, language, max_new_tokens, force_length=False) -> list[int]:
        return self.inner.greedy_tokens(samples, language, max_new_tokens, force_length)


def test_engines_without_batching_loop(utterance, speak):
    items = _mixed(speak)
    looping = OneAtATime(utterance.engine)
    out = Recognizer(looping, ASRSettings(window="utterance")).transcribe_many(items)
    assert [t.text for t in out] == [t.text for t in utterance.transcribe_many(items)]
    assert looping.calls == len(items) - 1  # the silent one never reaches the engine


@pytest.mark.parametrize(("kind", "gate"), [("silence", True), ("noise", True), ("noise", False)])
def test_guards_still_drop_no_speech(whisper_base, kind, gate):
    """Without the VAD gate, noise is dropped by the no-speech guard on the short decode's scores.
    (Ungated digital silence makes whisper-base say "you" in either window: the gate is what stops it.)"""
    rng = np.random.default_rng(1)
    n = 3 * 16000
    samples = np.zeros(n) if kind == "silence" else rng.normal(0, 0.05, n)
    r = Recognizer(whisper_base.engine, ASRSettings(window="utterance", vad_gate=gate))
    audio = Audio(samples.astype(np.float32), 16000)
    t = r.transcribe(audio, "eng")
    assert t.text == "" and t.duration == pytest.approx(3.0)
    assert [t.text for t in r.transcribe_many([(audio, "eng"), (audio, "fra")])] == ["", ""]
