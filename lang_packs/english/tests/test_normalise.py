"""normalise(): the comparison form used for ASR scoring and intent matching."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("Hello, how are YOU?", "hello how are you"),
        ("Don’t  worry!", "don't worry"),
        ("\u00c9cole", "école"),
        ("Cafe\u0301", "café"),  # NFC
        ("‘quoted’ words", "quoted words"),
        ("[noise] hello <unk> there", "hello there"),
        ("Your balance is 2,000 FCFA.", "your balance is 2000 fcfa"),
        ("1,000,000 users", "1000000 users"),
        ("It costs 1.5%", "it costs 1.5 percent"),
        ("Call +221 77 123 45 67!", "call 221771234567"),
        ("call 77-123-45-67", "call 771234567"),
        ("well - known", "well known"),
    ],
)
def test_normalise(pack, text: str, norm: str) -> None:
    assert pack.normalise(text) == norm


def test_same_number_written_differently_normalises_the_same(pack) -> None:
    assert pack.normalise("2,000") == pack.normalise("2000")
    assert pack.normalise("77 123 45 67") == pack.normalise("771234567")


def test_normalise_is_idempotent(pack) -> None:
    text = "Your ticket, number 48213, is OPEN: call 1400 (free)."
    once = pack.normalise(text)
    assert pack.normalise(once) == once
