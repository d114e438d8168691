"""Sentence splitting for streaming TTS."""

from __future__ import annotations


def test_split_basic(pack) -> None:
    text = "Hello. How can I help you? Your balance is 2.5 GB! Goodbye…"
    assert pack.split_sentences(text) == [
        "Hello.",
        "How can I help you?",
        "Your balance is 2.5 GB!",
        "Goodbye…",
    ]


def test_split_keeps_abbreviations(pack) -> None:
    text = "Mr. Jallow called Dr. Ceesay. She was out, e.g. at lunch."
    assert pack.split_sentences(text) == ["Mr. Jallow called Dr. Ceesay.", "She was out, e.g. at lunch."]


def test_split_does_not_break_numbers_or_codes(pack) -> None:
    text = "Send 2.000 FCFA with *111*number*amount#. It costs 10 FCFA."
    assert pack.split_sentences(text) == ["Send 2.000 FCFA with *111*number*amount#.", "It costs 10 FCFA."]


def test_split_newlines(pack) -> None:
    assert pack.split_sentences("First line\nSecond line") == ["First line", "Second line"]
