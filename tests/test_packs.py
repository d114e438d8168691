"""Language packs as public services get them: built, downloaded, checked, installed alone.

A fresh virtual environment is made in the test from local wheels (the core's dependencies come
from the package index / pip cache), then each pack is installed into it alone.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from voice.packs import get_pack, installed_packs
from voice.packs.archive import UnsafeArchiveError, inspect_archive
from voice.packs.langid import LanguageIdentifier

ROOT = Path(__file__).resolve().parents[1]
CODES = ("eng", "fra", "fuc", "wol")


def sh(*cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheelhouse")
    proc = sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, ROOT)
    assert proc.returncode == 0, proc.stderr
    for code in CODES:
        proc = sh(Path(sys.executable).parent / "voice", "packs", "build", code, "-o", out)
        assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory, wheelhouse) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "v"
    assert sh(sys.executable, "-m", "venv", venv).returncode == 0
    core = next(wheelhouse.glob("teranga_voice-*.whl"))
    proc = sh(venv / "bin/pip", "install", "-q", core)
    assert proc.returncode == 0, proc.stderr
    return venv


def listed(venv: Path) -> list[str]:
    proc = sh(venv / "bin/voice", "packs", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["broken"] == {}
    return [p["code"] for p in data["packs"]]


@pytest.mark.slow
def test_each_pack_installs_alone_and_works(fresh_venv, wheelhouse):
    assert listed(fresh_venv) == []
    for code in CODES:
        wheel = next(wheelhouse.glob(f"voice_pack_{code}-*.whl"))
        assert sh(fresh_venv / "bin/pip", "install", "-q", "--no-deps", wheel).returncode == 0
        assert listed(fresh_venv) == [code], "discovery finds exactly the installed pack"
        verify = sh(fresh_venv / "bin/voice", "packs", "verify", code)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        ask = sh(
            fresh_venv / "bin/voice",
            "ask",
            "balance",
            "--lang",
            code,
            "--json",
            env={"VOICE_DATA_DIR": str(fresh_venv / f"data-{code}"), "PATH": "/usr/bin:/bin"},
        )
        assert ask.returncode == 0, ask.stderr
        assert json.loads(ask.stdout)["language"] == code
        assert sh(fresh_venv / "bin/pip", "uninstall", "-q", "-y", f"voice-pack-{code}").returncode == 0
    for code in CODES:
        sh(
            fresh_venv / "bin/pip",
            "install",
            "-q",
            "--no-deps",
            next(wheelhouse.glob(f"voice_pack_{code}-*.whl")),
        )
    assert listed(fresh_venv) == sorted(CODES)


@pytest.mark.slow
def test_verify_catches_a_tampered_installed_file(fresh_venv, wheelhouse):
    sh(fresh_venv / "bin/pip", "install", "-q", "--no-deps", next(wheelhouse.glob("voice_pack_eng-*.whl")))
    site = next((fresh_venv / "lib").glob("python3*/site-packages"))
    faq = site / "voice_pack_eng/content/faq.yaml"
    faq.write_text(faq.read_text() + "\n# tampered\n")
    proc = sh(fresh_venv / "bin/voice", "packs", "verify", "eng")
    assert proc.returncode == 1
    assert "content" in proc.stdout and "sha256" in proc.stdout


def _rewrite_zip(src: Path, dest: Path, change: dict[str, bytes]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info, change.get(info.filename, zin.read(info)))


def test_verify_catches_a_tampered_archive(wheelhouse, tmp_path):
    wheel = next(wheelhouse.glob("voice_pack_wol-*.whl"))
    assert inspect_archive(wheel).problems == []
    tampered = tmp_path / wheel.name
    _rewrite_zip(wheel, tampered, {"voice_pack_wol/data/lexicon.txt": b"not the lexicon\n"})
    problems = inspect_archive(tampered).problems
    assert len(problems) == 1 and "lexicon" in problems[0]
    proc = sh(Path(sys.executable).parent / "voice", "packs", "verify", tampered)
    assert proc.returncode == 1 and "lexicon" in proc.stdout


@pytest.mark.parametrize("kind", ["zip", "tar", "tar-symlink"])
def test_archives_with_paths_leaving_the_archive_are_refused(tmp_path, kind):
    if kind == "zip":
        path = tmp_path / "evil-0.1.0-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("voice_pack_evil/manifest.yaml", "code: evl\n")
            z.writestr("../../etc/evil.txt", "x")
    else:
        path = tmp_path / "evil-0.1.0.tar.gz"
        with tarfile.open(path, "w:gz") as t:
            info = tarfile.TarInfo("evil-0.1.0/voice_pack_evil/manifest.yaml")
            data = b"code: evl\n"
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
            if kind == "tar":
                bad = tarfile.TarInfo("evil-0.1.0/../../outside.txt")
                bad.size = 1
                t.addfile(bad, io.BytesIO(b"x"))
            else:
                link = tarfile.TarInfo("evil-0.1.0/link")
                link.type, link.linkname = tarfile.SYMTYPE, "../../../etc/passwd"
                t.addfile(link)
    with pytest.raises(UnsafeArchiveError, match="leaves the archive"):
        inspect_archive(path)
    proc = sh(Path(sys.executable).parent / "voice", "packs", "install", path)
    assert proc.returncode == 2 and "leaves the archive" in proc.stderr


def test_language_identification_on_held_out_lines():
    """wol / fuc / fra / eng: held-out lines never used to build the profiles."""
    lid = LanguageIdentifier.installed()
    assert set(CODES) <= set(lid.languages)
    total = correct = 0
    report = {}
    for code in CODES:
        lines = [
            x for x in (get_pack(code).package_dir / "data/langid_heldout.txt").read_text().splitlines() if x
        ]
        hits = sum(lid.identify(line)[0] == code for line in lines)
        report[code] = (hits, len(lines))
        total, correct = total + len(lines), correct + hits
        assert len(lines) >= 200
        assert hits / len(lines) >= 0.95, (code, hits, len(lines))
    print(
        "\nlanguage ID held-out accuracy:",
        {k: f"{h}/{n} = {h / n:.3f}" for k, (h, n) in report.items()},
        f"overall {correct}/{total} = {correct / total:.4f}",
    )
    assert correct / total >= 0.95


@pytest.mark.slow
def test_new_pack_builds_installs_and_verifies(fresh_venv, tmp_path):
    voice = Path(sys.executable).parent / "voice"
    proc = sh(voice, "packs", "new", "xyz", "-o", tmp_path, "--name", "Xyzian", "--espeak-voice", "en")
    assert proc.returncode == 0, proc.stderr
    src = tmp_path / "voice-pack-xyz"
    dist = tmp_path / "dist"
    proc = sh(
        sys.executable,
        "-m",
        "build",
        "--no-isolation",
        "--skip-dependency-check",
        "--wheel",
        "--outdir",
        dist,
        src,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(dist.glob("*.whl"))
    assert inspect_archive(wheel).problems == []
    assert sh(fresh_venv / "bin/pip", "install", "-q", "--no-deps", wheel).returncode == 0
    assert "xyz" in listed(fresh_venv)
    proc = sh(fresh_venv / "bin/voice", "packs", "verify", "xyz")
    assert proc.returncode == 0, proc.stdout
    sh(fresh_venv / "bin/pip", "uninstall", "-q", "-y", "voice-pack-xyz")


def test_gateway_serves_the_packs_with_a_correct_index(wheelhouse, tmp_path):
    from fastapi.testclient import TestClient

    from services.gateway import create_app
    from voice.config import Settings

    served = tmp_path / "served"
    served.mkdir()
    for f in wheelhouse.glob("voice_pack_*"):
        shutil.copy(f, served)
    (served / "secret.txt").write_text("not a pack")
    # `voice packs index` writes the same index for a static file host.
    proc = sh(Path(sys.executable).parent / "voice", "packs", "index", served)
    assert proc.returncode == 0, proc.stderr
    written = json.loads((served / "index.json").read_text())
    settings = Settings(paths={"packs_dir": served, "data_dir": tmp_path / "data"})
    client = TestClient(create_app(settings))
    index = client.get("/packs/index.json").json()
    assert index == written
    assert sorted(p["code"] for p in index["packs"]) == sorted(CODES)
    for pack in index["packs"]:
        assert len(pack["files"]) == 2  # wheel + sdist
        for f in pack["files"]:
            r = client.get(f"/packs/{f['name']}")
            assert r.status_code == 200
            assert hashlib.sha256(r.content).hexdigest() == f["sha256"] and len(r.content) == f["size"]
    for bad in (
        "secret.txt",
        "..%2Fpyproject.toml",
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "nope.whl",
        "../index.json",
    ):
        assert client.get(f"/packs/{bad}").status_code == 404, bad


def test_non_commercial_licences_are_flagged():
    voice = Path(sys.executable).parent / "voice"
    flagged = [code for code, p in installed_packs().items() if p.manifest.non_commercial]
    for code in flagged:
        proc = sh(voice, "packs", "info", code)
        assert "non-commercial licence on" in proc.stdout
    # MMS-TTS is CC-BY-NC: any pack referencing it must carry the flag.
    for code, pack in installed_packs().items():
        for art in pack.manifest.artifacts:
            if "mms-tts" in (art.hf_id or ""):
                assert art.non_commercial, (code, art.name)
