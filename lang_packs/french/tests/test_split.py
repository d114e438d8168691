"""Découpage en phrases pour la synthèse en flux."""

from __future__ import annotations


def test_split_basic(pack) -> None:
    text = "Bonjour. Comment puis-je vous aider ? Il vous reste 2,5 Go ! Au revoir…"
    assert pack.split_sentences(text) == [
        "Bonjour.",
        "Comment puis-je vous aider ?",
        "Il vous reste 2,5 Go !",
        "Au revoir…",
    ]


def test_split_keeps_abbreviations(pack) -> None:
    text = "M. Ndiaye a appelé le Dr. Diop. Il était absent, cf. son message."
    assert pack.split_sentences(text) == [
        "M. Ndiaye a appelé le Dr. Diop.",
        "Il était absent, cf. son message.",
    ]


def test_split_does_not_break_numbers_or_codes(pack) -> None:
    text = "Envoyez 2.000 FCFA avec *111*numéro*montant#. Cela coûte 10 FCFA."
    assert pack.split_sentences(text) == [
        "Envoyez 2.000 FCFA avec *111*numéro*montant#.",
        "Cela coûte 10 FCFA.",
    ]


def test_split_newlines(pack) -> None:
    assert pack.split_sentences("Première ligne\nDeuxième ligne") == ["Première ligne", "Deuxième ligne"]
