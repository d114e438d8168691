"""normalise() : la forme de comparaison (score ASR, intentions)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("text", "norm"),
    [
        ("Bonjour, comment ALLEZ-vous ?", "bonjour comment allez vous"),
        ("J’ai perdu l’argent", "j'ai perdu l'argent"),  # élisions gardées
        ("aujourd'hui", "aujourd'hui"),
        ("Ce\u0301dric a e\u0301te\u0301 la\u0300", "cédric a été là"),  # NFC
        ("« Très bien ! »", "très bien"),
        ("[r] euh <bruit> oui", "euh oui"),
        ("2 000 FCFA", "2000 fcfa"),
        ("2.000 FCFA", "2000 fcfa"),
        ("2000 FCFA", "2000 fcfa"),
        ("2\u202f000\u202f000 francs", "2000000 francs"),
        ("1,5 %", "1,5 pour cent"),
        ("1.5%", "1,5 pour cent"),
        ("Appelez le +221 77 123 45 67 !", "appelez le 221771234567"),
        ("77.123.45.67", "771234567"),
        ("200 000 000 de francs", "200000000 de francs"),
    ],
)
def test_normalise(pack, text: str, norm: str) -> None:
    assert pack.normalise(text) == norm


def test_number_formats_compare_equal(pack) -> None:
    assert pack.normalise("2 000") == pack.normalise("2.000") == pack.normalise("2000")
    assert pack.normalise("77 123 45 67") == pack.normalise("771234567")


def test_normalise_is_idempotent(pack) -> None:
    text = "Votre ticket n°48213 est OUVERT : appelez le 1400 (gratuit), l'agent répondra."
    once = pack.normalise(text)
    assert pack.normalise(once) == once
