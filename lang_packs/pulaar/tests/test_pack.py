from __future__ import annotations

import json

import pytest

from voice.packs import find_pack
from voice.packs.langid import LanguageIdentifier, build_profile
from voice.packs.verify import verify_pack

FRENCH = """Bonjour, je voudrais connaître mon solde s'il vous plaît.
Mon téléphone ne capte plus le réseau depuis hier soir.
Je veux acheter le forfait internet de la semaine.
Combien coûte un transfert d'argent vers un autre numéro ?
J'ai perdu ma carte SIM, pouvez-vous la bloquer ?
Les boutiques sont ouvertes du lundi au samedi.
Merci beaucoup pour votre aide, bonne journée.
Je voudrais parler à un conseiller humain.""".splitlines()
ENGLISH = """Hello, I would like to check my balance please.
My phone has had no network since last night.
I want to buy the weekly internet bundle.
How much does it cost to send money to another number?
I lost my SIM card, can you block it?
The shops are open from Monday to Saturday.
Thank you very much for your help, have a nice day.
I would like to speak to a human agent.""".splitlines()


def lines(pack, name: str) -> list[str]:
    path = pack.artifact_path(name)
    assert path is not None
    return [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.mark.parametrize("key", ["fuc", "FUC", "fuc-SN", "ff", "pulaar", "Fula", "fulfulde", "peul"])
def test_found_by_code_tag_and_alias(key: str) -> None:
    pack = find_pack(key)
    assert pack is not None and pack.code == "fuc"


def test_manifest(pack) -> None:
    m = pack.manifest
    assert (m.code, m.bcp47, m.version, m.core) == ("fuc", "fuc-SN", "0.1.0", ">=0.1,<0.2")
    assert m.asr.token_strategy == "reuse" and m.asr.whisper_language == "fr"
    assert m.tts.espeak_voice == "om"
    assert {"Latn", "Adlm"} <= set(m.scripts)
    assert [a.name for a in m.non_commercial] == ["tts-jokalante-pulaar-mms"]
    assert not m.tts.vits  # the non-commercial voice is referenced, not used by default


def test_bundled_artifacts_verify(pack) -> None:
    assert verify_pack(pack) == []


def test_heldout_is_large_disjoint_and_not_in_the_profile(pack) -> None:
    train, heldout = lines(pack, "langid-train"), lines(pack, "langid-heldout")
    assert len(heldout) >= 200
    assert all(len(x.split()) >= 4 for x in heldout)
    assert not set(train) & set(heldout)
    # the shipped profile is exactly the one built from the training file
    shipped = json.loads(pack.langid_profile_path.read_text(encoding="utf-8"))
    assert shipped == build_profile("fuc", train)


def test_heldout_accuracy_against_french_and_english(pack) -> None:
    profile = json.loads(pack.langid_profile_path.read_text(encoding="utf-8"))
    lid = LanguageIdentifier(
        {"fuc": profile, "fra": build_profile("fra", FRENCH * 20), "eng": build_profile("eng", ENGLISH * 20)}
    )
    heldout = lines(pack, "langid-heldout")
    right = sum(lid.identify(x)[0] == "fuc" for x in heldout)
    assert right / len(heldout) >= 0.95
    assert lid.identify("Je voudrais connaître mon solde")[0] == "fra"


def test_lexicon_covers_common_words(pack) -> None:
    words = set(lines(pack, "lexicon"))
    assert len(words) > 5000
    assert {"ɗiɗi", "tati", "sappo", "noogaas", "teemedere", "ujunere", "kaalis", "hannde", "ñalnde"} <= words
    assert all(w == pack.normalise(w) for w in list(words)[:2000])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Jam waali. Hol no mbaɗ-ɗaa? Mi yiɗi soodde pass!",
            ["Jam waali.", "Hol no mbaɗ-ɗaa?", "Mi yiɗi soodde pass!"],
        ),
        (
            "Mi soodii gawri, maaro ekn. kadi e ñalnde nde.",
            ["Mi soodii gawri, maaro ekn. kadi e ñalnde nde."],
        ),
        ("Kaalis maa ko 2.000 FCFA. A jaaraama.", ["Kaalis maa ko 2.000 FCFA.", "A jaaraama."]),
        ("Noddu Dr. Sal. Walla tel. 1400.", ["Noddu Dr. Sal.", "Walla tel. 1400."]),
    ],
)
def test_split_sentences(pack, text: str, expected: list[str]) -> None:
    assert pack.split_sentences(text) == expected
