"""The pack as the core sees it: discovery, manifest, artifacts, language ID, sentence splitting."""

from __future__ import annotations

import json

import voice_pack_wol

from voice.packs import get_pack
from voice.packs.langid import LanguageIdentifier, build_profile
from voice.packs.verify import verify_pack

PACK = voice_pack_wol.load()
DATA = PACK.package_dir / "data"


def lines(name: str) -> list[str]:
    return [x for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x.strip()]


def test_discovered_by_code_tag_and_aliases() -> None:
    for key in ("wol", "wo", "WO-SN", "wolof"):
        pack = get_pack(key)
        assert isinstance(pack, voice_pack_wol.WolofPack)
        assert pack.code == "wol"


def test_manifest() -> None:
    m = PACK.manifest
    assert (m.bcp47, m.version, m.core) == ("wo-SN", "0.1.0", ">=0.1,<0.2")
    assert (m.asr.whisper_language, m.asr.token_strategy, m.asr.token_source) == ("fr", "reuse", "fr")
    assert set(m.asr.tiers) == {"edge", "server"}
    assert m.tts.espeak_voice == "sw"
    assert m.non_commercial == []
    for art in m.artifacts:
        if art.hf_id:
            assert art.note and "revision" in art.note.lower(), art.name


def test_bundled_artifacts_verify() -> None:
    assert verify_pack(PACK) == []


def test_langid_split_is_by_recording_and_honest() -> None:
    train, heldout = lines("langid_train.txt"), lines("langid_heldout.txt")
    assert len(heldout) >= 200
    assert all(len(x.split()) >= 4 for x in heldout)
    assert not set(heldout) & set(train)
    profile = json.loads(PACK.langid_profile_path.read_text(encoding="utf-8"))
    rebuilt = build_profile("wol", train)
    assert profile["lines"] == len(train)
    assert profile["grams"] == rebuilt["grams"]  # langid.json comes from langid_train.txt only


def test_heldout_is_recognised_against_a_french_profile() -> None:
    # French profile from the French words Kallaama speakers used (bundled protected-word list).
    french = lines("protected_words.txt")
    french_lines = [" ".join(french[i : i + 8]) for i in range(0, len(french), 8)]
    wol = json.loads(PACK.langid_profile_path.read_text(encoding="utf-8"))
    ident = LanguageIdentifier({"wol": wol, "fra": build_profile("fra", french_lines)})
    heldout = lines("langid_heldout.txt")
    correct = sum(ident.identify(x)[0] == "wol" for x in heldout)
    assert correct / len(heldout) >= 0.95
    assert ident.identify("Ñaata la sama keredi des ci sama telefon?")[0] == "wol"
    assert ident.identify("Je voudrais changer le chauffeur de la boutique")[0] == "fra"


def test_sentence_splitting() -> None:
    assert PACK.split_sentences("M. Diop dafa woo. Ndax yaa ngi fi? Waaw! 2.000 FCFA la.") == [
        "M. Diop dafa woo.",
        "Ndax yaa ngi fi?",
        "Waaw!",
        "2.000 FCFA la.",
    ]
    assert PACK.split_sentences("Xaaral tuuti…\nMaa ngi seet.") == ["Xaaral tuuti…", "Maa ngi seet."]
    assert PACK.split_sentences("Dr. Ndiaye mu ngi ci bitig bi. Jërëjëf.") == [
        "Dr. Ndiaye mu ngi ci bitig bi.",
        "Jërëjëf.",
    ]


def test_bundle_stays_small() -> None:
    size = sum(
        f.stat().st_size for f in PACK.package_dir.rglob("*") if f.is_file() and "__pycache__" not in f.parts
    )
    assert size < 2_000_000
