"""The pack as the core sees it: discovery, manifest, bundled files, language-ID profile."""

from __future__ import annotations

import json
import shutil
import subprocess

from voice_pack_fra import FrenchPack

from voice.packs import find_pack
from voice.packs.langid import LanguageIdentifier, build_profile
from voice.packs.registry import discover
from voice.packs.verify import verify_pack


def test_discovered_through_entry_point() -> None:
    found = discover()
    assert "fra" not in found.broken
    assert isinstance(found.packs["fra"], FrenchPack)
    for key in ("fra", "fr", "french", "français", "fr-SN", "FR"):
        assert find_pack(key) is found.packs["fra"], key


def test_manifest(pack) -> None:
    m = pack.manifest
    assert (m.code, m.bcp47, m.version) == ("fra", "fr-SN", "0.1.0")
    assert m.supports_core("0.1.0") and not m.supports_core("0.2.0")
    assert m.asr.whisper_language == "fr" and m.asr.token_strategy == "native"
    assert m.asr.tiers["edge"].model == "whisper-base"
    assert m.asr.tiers["server"].model == "openai/whisper-large-v3"
    assert m.non_commercial == []


def test_bundled_artifacts_verify(pack) -> None:
    assert verify_pack(pack) == []
    for name in ("content", "langid-profile", "langid-train", "langid-heldout"):
        assert pack.artifact_path(name).exists(), name


def test_espeak_speaks_with_the_voice(pack) -> None:
    # `--voices` lists "fr-fr" for the voice file "fr"; what matters is that `-v <voice>` speaks.
    binary = shutil.which("espeak-ng")
    assert binary, "espeak-ng must be installed (apt-get install espeak-ng)"
    proc = subprocess.run(
        [binary, "-v", pack.espeak_voice, "--stdout"], input=b"bonjour", capture_output=True
    )
    assert proc.returncode == 0 and b"does not exist" not in proc.stderr
    assert proc.stdout[:4] == b"RIFF" and len(proc.stdout) > 4000


def _lines(pack, name: str) -> list[str]:
    return [x for x in pack.artifact_path(name).read_text(encoding="utf-8").splitlines() if x.strip()]


def test_langid_data_is_clean_and_held_out(pack) -> None:
    train, held = _lines(pack, "langid-train"), _lines(pack, "langid-heldout")
    assert len(train) >= 400 and len(held) >= 200
    assert all(len(x.split()) >= 4 for x in train + held)
    assert not set(map(pack.normalise, held)) & set(map(pack.normalise, train))


def test_profile_is_built_from_train_only(pack) -> None:
    bundled = json.loads(pack.langid_profile_path.read_text(encoding="utf-8"))
    assert bundled == build_profile("fra", _lines(pack, "langid-train"))


def test_heldout_identified_against_installed_packs(pack) -> None:
    """>= 95% of held-out lines are French against every installed pack's profile (in CI: wol, fuc, eng)."""
    lid = LanguageIdentifier.installed()
    held = _lines(pack, "langid-heldout")
    hits = sum(lid.identify(x)[0] == "fra" for x in held)
    assert hits / len(held) >= 0.95


def test_heldout_beats_a_contrast_language(pack) -> None:
    """Independent of what else is installed: against a small non-French profile."""
    contrast = build_profile("xxx", ["Ndax dangay jënd pass bi ci kanam?", "Mi yiɗi soodde pas jamma."] * 50)
    lid = LanguageIdentifier(
        {"fra": json.loads(pack.langid_profile_path.read_text(encoding="utf-8")), "xxx": contrast}
    )
    held = _lines(pack, "langid-heldout")
    assert sum(lid.identify(x)[0] == "fra" for x in held) / len(held) >= 0.95
